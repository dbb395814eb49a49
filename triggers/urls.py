from django.urls import path

from . import views

urlpatterns = [
    path("teams/<int:team_id>/automation/", views.team_automation, name="team-automation"),
    path(
        "teams/<int:team_id>/automation/preview/",
        views.schedule_preview,
        name="schedule-preview",
    ),
    path("teams/<int:team_id>/triggers/new/", views.trigger_create, name="trigger-create"),
    path("schedules/<int:schedule_id>/switch/", views.schedule_switch, name="schedule-switch"),
    path("schedules/<int:schedule_id>/delete/", views.schedule_delete, name="schedule-delete"),
    path("triggers/<int:trigger_id>/delete/", views.trigger_delete, name="trigger-delete"),
]
