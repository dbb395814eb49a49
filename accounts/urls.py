from django.urls import path

from . import sso_views, views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("oidc/start/", sso_views.SSOStart.as_view(), name="oidc-start"),
    path("oidc/callback/", sso_views.SSOCallback.as_view(), name="oidc-callback"),
]
