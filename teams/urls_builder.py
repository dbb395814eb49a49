from django.urls import path

from . import views_builder

urlpatterns = [
    path("teams/<int:team_id>/builder/", views_builder.team_builder, name="team-builder"),
]
