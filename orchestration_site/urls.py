from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.defaults import page_not_found

from .api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("runs.ops_urls")),
    path("", include("runs.urls")),
    path("", include("accounts.urls")),
    path("", include("teams.urls")),
    path("", include("teams.urls_templates")),
    path("", include("teams.urls_builder")),
    path("", include("workspaces.urls")),
    path("", include("evaluations.urls")),
    path("", include("triggers.urls")),
    path("", include("publishing.urls")),
    path("", include("conversations.urls")),
]


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Under /api/ every answer is JSON, also for a URL no route matches (an id of the wrong
    form, say); elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found.", "problems": []}, status=404)
    return page_not_found(request, exception)


handler404 = not_found
