"""Websocket routes, and the origin check in front of them."""

from typing import Any

from channels.security.websocket import OriginValidator
from django.conf import settings
from django.urls import re_path

from .consumers import RunConsumer

websocket_urlpatterns = [
    re_path(r"^ws/runs/(?P<run_id>[0-9a-fA-F-]{36})/$", RunConsumer.as_asgi()),
]


class BrowserOriginValidator(OriginValidator):
    """Checks the Origin header against ALLOWED_HOSTS when there is one.

    Browsers always send Origin on a websocket handshake, so a page on another site cannot
    ride on the session cookie; API clients send none and authenticate with a bearer token,
    so a missing Origin is let through (channels' own validator refuses it).
    """

    def __init__(self, application: Any) -> None:
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed)

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)
