from django.urls import path

from . import views

urlpatterns = [
    path("experiments/<int:experiment_id>/", views.experiment_detail, name="experiment-detail"),
    path(
        "experiments/compare/<int:a>/<int:b>/",
        views.experiment_compare,
        name="experiment-compare",
    ),
]
