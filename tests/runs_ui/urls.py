"""The site's URLs, plus login/logout if the accounts pages have not landed on this branch yet:
the base template links to `logout`, so the run pages cannot render without it."""

from django.contrib.auth import views as auth_views
from django.urls import NoReverseMatch, path, reverse

from orchestration_site.urls import urlpatterns as site_urlpatterns

urlpatterns = list(site_urlpatterns)
try:
    reverse("logout", urlconf="orchestration_site.urls")
except NoReverseMatch:
    urlpatterns += [
        path("login/", auth_views.LoginView.as_view(), name="login"),
        path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    ]
