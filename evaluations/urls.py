from django.urls import path

from . import views, views_datasets

urlpatterns = [
    path("datasets/", views_datasets.dataset_list, name="dataset-list"),
    path("datasets/<int:dataset_id>/", views_datasets.dataset_detail, name="dataset-detail"),
    path("datasets/<int:dataset_id>/upload/", views_datasets.dataset_upload, name="dataset-upload"),
    path(
        "datasets/<int:dataset_id>/experiment/",
        views_datasets.dataset_experiment,
        name="dataset-experiment",
    ),
    path("experiments/<int:experiment_id>/", views.experiment_detail, name="experiment-detail"),
    path(
        "experiments/compare/<int:a>/<int:b>/",
        views.experiment_compare,
        name="experiment-compare",
    ),
]
