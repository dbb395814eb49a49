from django.urls import path

from . import views

urlpatterns = [
    path("runs/", views.run_list, name="run-list"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run-detail"),
    path("runs/<uuid:run_id>/audit/", views.run_audit, name="run-audit"),
    path("inbox/", views.inbox, name="inbox"),
    path("dashboard/", views.dashboard, name="dashboard"),
]
