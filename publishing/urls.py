from django.urls import path

from . import views

urlpatterns = [
    path("p/<slug:slug>/runs", views.start_run, name="publication-runs"),
    path("p/<slug:slug>/runs/<uuid:run_id>", views.read_run, name="publication-run"),
]
