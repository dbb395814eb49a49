"""A live ASGI server (daphne) on a thread of the test process, for the browser tests.

pytest-django's `live_server` speaks WSGI only, and channels' ChannelsLiveServerTestCase runs
daphne in another process, where the embedded default's in-memory channel layer and database
are out of reach. On a thread, the test and the server share both, so the same tests run on
the embedded default and on PostgreSQL + Redis.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter, URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.urls import path

from runs.models import Run, RunEvent
from runs.routing import websocket_urlpatterns


def event_document(event: RunEvent) -> dict[str, Any]:
    """An event as the contract sends it."""
    return {
        "seq": event.seq,
        "ts": event.ts.isoformat(),
        "type": event.type,
        "key": event.key,
        "agent": event.agent,
        "span_id": event.span_id,
        "parent_span_id": event.parent_span_id,
        "payload": event.payload,
        "hash": event.hash,
    }


class ContractRunConsumer(AsyncJsonWebsocketConsumer):
    """Stands in for the runs colleague's consumer until it is on this branch: it speaks the
    contract (subscribe with after_seq; stored events, then live ones) and takes the group
    messages that consumer takes (`run.events`, `run.delta`, `run.summary`), so the tests
    run unchanged against the real one once it is here."""

    async def connect(self) -> None:
        user = self.scope["user"]
        if not user.is_authenticated:
            await self.close(code=4401)
            return
        self.run = await database_sync_to_async(
            Run.objects.for_user(user).filter(pk=self.scope["url_route"]["kwargs"]["run_id"]).first
        )()
        if self.run is None:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(self.run.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "run", None):
            await self.channel_layer.group_discard(self.run.group_name, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "subscribe":
            after = int(content.get("after_seq") or 0)
            events = await database_sync_to_async(
                lambda: [event_document(e) for e in self.run.events.filter(seq__gt=after)]
            )()
            await self.send_json({"type": "events", "events": events})

    async def run_events(self, message: dict[str, Any]) -> None:
        await self.send(text_data=message["text"])

    async def run_delta(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {k: message[k] for k in ("agent", "span_id", "text")} | {"type": "delta"}
        )

    async def run_summary(self, message: dict[str, Any]) -> None:
        await self.send_json({"type": "run", "run": message["run"]})


def application() -> Any:
    if websocket_urlpatterns:
        from orchestration_site.asgi import application as site_application

        return ASGIStaticFilesHandler(site_application)
    from orchestration_site.asgi import django_asgi_app

    routes = [path("ws/runs/<uuid:run_id>/", ContractRunConsumer.as_asgi())]
    return ProtocolTypeRouter(
        {
            "http": ASGIStaticFilesHandler(django_asgi_app),
            "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(routes))),
        }
    )


class LiveServer:
    """daphne on a thread; Twisted's reactor runs once per process, so one per session."""

    def __init__(self) -> None:
        from daphne.server import Server

        self.server = Server(
            application=application(),
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
        )
        self.thread = threading.Thread(target=self.server.run, name="daphne", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.listening_addresses:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("daphne did not start listening")
            time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.listening_addresses[0]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(reactor.stop)
        self.thread.join(timeout=10)

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the server's event loop (the in-memory layer lives there)."""
        from twisted.internet import reactor

        loop: asyncio.AbstractEventLoop = reactor._asyncioEventloop
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=10)

    def publish(self, run: Run, message: dict[str, Any]) -> None:
        """Send a contract message to everyone watching ``run``, as the runs sink does."""
        layer = get_channel_layer()
        assert layer is not None
        self.call(layer.group_send(run.group_name, group_message(message)))


def group_message(message: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer form of a contract message (the runs sink's `run.*` messages)."""
    if message["type"] == "events":
        events = message["events"]
        return {
            "type": "run.events",
            "first_seq": events[0]["seq"],
            "last_seq": events[-1]["seq"],
            "text": json.dumps(message),
        }
    if message["type"] == "delta":
        return {**message, "type": "run.delta"}
    return {"type": "run.summary", "run": message["run"]}
