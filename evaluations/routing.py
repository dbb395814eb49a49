"""The experiment websocket's route (orchestration_site/asgi.py serves it with the run's)."""

from django.urls import re_path

from .consumers import ExperimentConsumer

websocket_urlpatterns = [
    re_path(r"^ws/experiments/(?P<experiment_id>[0-9]{1,19})/$", ExperimentConsumer.as_asgi()),
]
