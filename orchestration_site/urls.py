from django.contrib import admin
from django.urls import include, path

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("runs.ops_urls")),
    path("", include("runs.urls")),
    path("", include("teams.urls")),
    path("", include("teams.urls_templates")),
    path("", include("teams.urls_builder")),
]
