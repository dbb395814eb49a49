"""The run websocket: a run's stored events after ``after_seq``, then live ones, each
exactly once and in ``seq`` order, plus streamed tokens and run summary changes.

Delivery never depends on the channel layer being lossless: the consumer tracks the last
``seq`` it sent, fetches from the database whatever a live message skips over, and while the
run is active it checks the database now and then in case the last live events were lost
(a Redis restart, a subscription that was not ready yet).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from pydantic import BaseModel, Field, ValidationError

from orchestration_site import quotas
from orchestration_site.quotas import QuotaExceeded
from teams.models import ApiToken
from workspaces import access

from . import metrics
from .backlog import Backlog
from .broadcast import events_in
from .models import Run, RunEvent
from .pubsub_channels import release_channel

log = logging.getLogger(__name__)

CLOSE_ANONYMOUS = 4401
CLOSE_FORBIDDEN = 4403
# Too many connections from this person lately (QUOTA_WEBSOCKET_CONNECTS): connect again
# after the seconds in the close reason ("... Retry-After: N").
CLOSE_RATE_LIMITED = 4429
# The watcher reads slower than its run writes: what waited for it stayed above
# WATCHER_MAX_BACKLOG_BYTES for WATCHER_BACKLOG_WAIT_S. Connect again and subscribe after the last seq received; the
# database has the rest (runs/backlog.py says why the web process cannot just keep it).
CLOSE_TOO_SLOW = 4008
TOO_SLOW_REASON = "Reading too slowly: connect again and subscribe after the last seq you hold."
CATCH_UP_PAGE = 500
# The largest events message sent: daphne refuses any over a mebibyte (its
# --websocket_max_message_size), so bigger pages and live batches go as several.
MESSAGE_MAX_BYTES = 512 * 1024


def events_text(parts: list[str]) -> str:
    return '{"type": "events", "events": [' + ", ".join(parts) + "]}"


def fits(text: str) -> bool:
    """Whether ``text`` fits one message (counting UTF-8 bytes only when it might not)."""
    return len(text) <= MESSAGE_MAX_BYTES // 4 or len(text.encode()) <= MESSAGE_MAX_BYTES


class Subscribe(BaseModel):
    type: str = Field(pattern="^subscribe$")
    after_seq: int = Field(0, ge=0)


def watch_poll_s() -> float:
    return float(getattr(settings, "RUN_WATCH_POLL_S", 2.0))


def bearer_token(scope: dict[str, Any]) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


@database_sync_to_async
def user_from_token(token: str) -> Any | None:
    return ApiToken.user_for(token)


async def quota_refusal(rate: quotas.Rate, user: Any) -> QuotaExceeded | None:
    """Counts one use of ``rate`` by ``user``; the refusal if the window is full."""
    try:
        await sync_to_async(quotas.hit, thread_sensitive=False)(rate, user.pk)
    except QuotaExceeded as refusal:
        return refusal
    return None


#: What watching a run needs (the generated permission test reads it).
WATCH_PERMISSION = "run.view"


@database_sync_to_async
def watchable_run(user: Any, run_id: str) -> Run | None:
    """The run if ``user`` may watch it; None (refused alike) whether it does not exist, lives
    in a workspace they are not in, or their role (or token) does not allow it."""
    try:
        return access.get_object(Run.objects.all(), user, WATCH_PERMISSION, id=run_id)
    except (access.NotFound, access.Forbidden):
        return None


@database_sync_to_async
def events_after(run_id: str, after_seq: int, upto: int | None) -> list[dict[str, Any]]:
    events = RunEvent.objects.filter(run_id=run_id, seq__gt=after_seq).order_by("seq")
    if upto is not None:
        events = events.filter(seq__lte=upto)
    return [event.to_dict() for event in events[:CATCH_UP_PAGE]]


@database_sync_to_async
def run_is_active(run_id: str) -> bool:
    return Run.objects.filter(id=run_id, status__in=Run.ACTIVE_STATUSES).exists()


class RunConsumer(AsyncJsonWebsocketConsumer):
    run_id: str
    group: str
    sent_seq: int | None = None  # None until the client subscribes
    poller: asyncio.Task[None] | None = None
    live_since_poll = False  # whether the layer brought events since the last poll
    backlog: Backlog | None = None  # None under a server whose backlog cannot be read
    too_slow = False  # closed for reading too slowly: nothing more is sent

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Here rather than in ``disconnect``, which never runs for a consumer the server
            # cancels (daphne does, when one outlives application_close_timeout after its
            # client left): its group would stay subscribed for the life of the process.
            await asyncio.shield(self.leave())

    async def leave(self) -> None:
        """Stop polling, leave the run's group and let go of the channel (channels may leave
        the layer holding it: runs/pubsub_channels.py)."""
        if self.poller is not None:
            self.poller.cancel()
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await database_sync_to_async(metrics.websocket_disconnected)()
        await release_channel(self.channel_layer, getattr(self, "channel_name", None))

    async def connect(self) -> None:
        # Accept first: a close code can only be sent on an open websocket.
        await self.accept()
        self.backlog = self.scope.get("backlog")  # runs.backlog.BacklogMiddleware
        user = self.scope.get("user")
        if not getattr(user, "is_authenticated", False):
            token = bearer_token(self.scope)
            user = await user_from_token(token) if token else None
        if user is None:
            await self.close(code=CLOSE_ANONYMOUS)
            return
        if refusal := await quota_refusal(quotas.WEBSOCKET_CONNECTS, user):
            reason = f"{refusal.detail} Retry-After: {refusal.retry_after}"
            await self.close(code=CLOSE_RATE_LIMITED, reason=reason[:120])
            return
        self.user = user
        run = await watchable_run(user, self.scope["url_route"]["kwargs"]["run_id"])
        if run is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.run_id, self.group = str(run.id), run.group_name
        self.sending = asyncio.Lock()
        await self.channel_layer.group_add(self.group, self.channel_name)
        await database_sync_to_async(metrics.websocket_connected)()

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's stack
            return None  # answered like any other message that is not a subscription

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not getattr(self, "group", None):
            return
        try:
            subscribe = Subscribe.model_validate(content)
        except ValidationError:
            await self.send_json(
                {"type": "error", "detail": 'Send {"type": "subscribe", "after_seq": N}.'}
            )
            return
        if refusal := await quota_refusal(quotas.WEBSOCKET_SUBSCRIBES, self.user):
            await self.send_json(
                {"type": "error", "detail": refusal.detail, "retry_after": refusal.retry_after}
            )
            return
        async with self.sending:
            self.sent_seq = subscribe.after_seq
            await self.catch_up()
        if self.poller is None:
            self.poller = asyncio.create_task(self.poll())

    async def catch_up(self, upto: int | None = None) -> None:
        """Send what the database holds after the last sent event (up to ``upto``)."""
        assert self.sent_seq is not None
        while not self.too_slow:
            events = await events_after(self.run_id, self.sent_seq, upto)
            if events:
                await self.send_events(events)
            if len(events) < CATCH_UP_PAGE:
                return

    async def send(
        self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False
    ) -> None:
        """Send, unless the watcher still has more than the limit unread after a wait: then
        close it instead. The close frame follows what is queued, so the client reads every
        event sent before the code, and the web process holds at most the limit plus one
        message for it."""
        if self.too_slow:
            return
        if self.backlog is not None and not await self.drained(self.backlog):
            self.too_slow = True
            log.info("Closing a watcher of run %s that reads too slowly", self.run_id)
            self.backlog.allow_closing_for(settings.WATCHER_CLOSE_GRACE_S)
            await self.close(code=CLOSE_TOO_SLOW, reason=TOO_SLOW_REASON)
            return
        # A client that has begun closing: daphne drops sends only once the socket is shut,
        # autobahn refuses them from the close frame on. Nothing is lost (a watcher catches
        # up after its last seq) and the disconnect follows.
        with contextlib.suppress(Disconnected):
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    async def send_json(self, content: Any, close: bool = False) -> None:
        # Through ``send`` above (channels' own goes past it).
        await self.send(text_data=await self.encode_json(content), close=close)

    @staticmethod
    async def drained(backlog: Backlog) -> bool:
        """Whether the unsent bytes fall to the limit within WATCHER_BACKLOG_WAIT_S (a big
        catch-up page takes a moment to cross even a fast network)."""
        deadline = asyncio.get_running_loop().time() + settings.WATCHER_BACKLOG_WAIT_S
        while backlog.unsent_bytes() > settings.WATCHER_MAX_BACKLOG_BYTES:
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def send_events(self, events: list[dict[str, Any]]) -> None:
        """Send the events that follow the last one sent, in messages of at most
        MESSAGE_MAX_BYTES (daphne refuses to send one over a mebibyte)."""
        parts: list[str] = []
        size = 0
        for event in events:
            if event["seq"] != (self.sent_seq or 0) + 1:
                continue
            part = json.dumps(event)
            if parts and size + len(part.encode()) > MESSAGE_MAX_BYTES:
                await self.send(text_data=events_text(parts))
                parts, size = [], 0
            parts.append(part)
            size += len(part.encode())
            self.sent_seq = event["seq"]
        if parts:
            await self.send(text_data=events_text(parts))

    async def poll(self) -> None:
        """While the run is active, look for events the channel layer did not bring.

        Only once the live stream has gone quiet: while events arrive, a lost one shows as a
        gap before the next and is fetched then, and reading the database for events whose
        broadcast is merely on its way would double the work exactly when there is most.
        Nor is the database asked whether the run is still active while events arrive: with
        many watchers, those queries every few seconds were what held up the live stream.
        """
        with contextlib.suppress(asyncio.CancelledError):
            while True:
                await asyncio.sleep(watch_poll_s())
                if self.live_since_poll:
                    self.live_since_poll = False
                    continue
                active = await run_is_active(self.run_id)
                async with self.sending:
                    await self.catch_up()
                if not active:
                    return

    # --- channel-layer messages, named after their types -------------------------------

    async def run_events(self, message: dict[str, Any]) -> None:
        if self.sent_seq is None:
            return  # not subscribed yet: the subscription's catch-up will include these
        self.live_since_poll = True
        async with self.sending:
            first, last = message["first_seq"], message["last_seq"]
            if last <= self.sent_seq:
                return  # already sent (from the database, or a repeat)
            if first > self.sent_seq + 1:
                await self.catch_up(upto=first - 1)
            if first == self.sent_seq + 1 and fits(message["text"]):
                await self.send(text_data=message["text"])
                self.sent_seq = last
            else:
                await self.send_events(events_in(message))

    async def run_delta(self, message: dict[str, Any]) -> None:
        if self.sent_seq is not None:
            await self.send_json(
                {
                    "type": "delta",
                    "agent": message["agent"],
                    "span_id": message["span_id"],
                    "text": message["text"],
                }
            )

    async def run_summary(self, message: dict[str, Any]) -> None:
        if self.sent_seq is not None:
            await self.send_json({"type": "run", "run": message["run"]})
