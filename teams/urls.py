from django.urls import path

from . import views, views_tools

urlpatterns = [
    path("teams/", views.team_list, name="team-list"),
    path("teams/<int:team_id>/", views.team_detail, name="team-detail"),
    path("teams/<int:team_id>/rename/", views.team_rename, name="team-rename"),
    path("teams/<int:team_id>/duplicate/", views.team_duplicate, name="team-duplicate"),
    path("teams/<int:team_id>/delete/", views.team_delete, name="team-delete"),
    path("settings/tokens/", views.token_list, name="token-list"),
    path("settings/tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("settings/models/", views.model_list, name="model-list"),
    path("settings/models/<int:config_id>/delete/", views.model_delete, name="model-delete"),
    path("settings/secrets/", views.secret_list, name="secret-list"),
    path("settings/secrets/<int:secret_id>/delete/", views.secret_delete, name="secret-delete"),
    path("settings/tools/", views_tools.custom_tool_list, name="custom-tool-list"),
    path(
        "settings/tools/<int:tool_id>/delete/",
        views_tools.custom_tool_delete,
        name="custom-tool-delete",
    ),
]
