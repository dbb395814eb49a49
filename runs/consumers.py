"""The run websocket: a run's stored events after ``after_seq``, then live ones, each
exactly once and in ``seq`` order, plus streamed tokens and run summary changes.

Delivery never depends on the channel layer being lossless: the consumer tracks the last
``seq`` it sent, fetches from the database whatever a live message skips over, and while the
run is active its process's one subscriber to the run (runs/fanout.py) checks the database
now and then in case the last live events were lost (a Redis restart).
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

from . import fanout, metrics
from .backlog import Backlog
from .fanout import Broadcast
from .models import Run, RunEvent

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


async def admitted_user(consumer: Any) -> Any | None:
    """The person on ``consumer``'s (accepted) socket, by session or bearer token, within
    their connect quota; None once the socket is closed with 4401 (nobody) or 4429."""
    user = consumer.scope.get("user")
    if not getattr(user, "is_authenticated", False):
        token = bearer_token(consumer.scope)
        user = await user_from_token(token) if token else None
    if user is None:
        await consumer.close(code=CLOSE_ANONYMOUS)
        return None
    if refusal := await quota_refusal(quotas.WEBSOCKET_CONNECTS, user):
        reason = f"{refusal.detail} Retry-After: {refusal.retry_after}"
        await consumer.close(code=CLOSE_RATE_LIMITED, reason=reason[:120])
        return None
    return user


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


class RunConsumer(AsyncJsonWebsocketConsumer):
    # No channel of its own: the run's messages come from this process's one subscriber to
    # the run (runs/fanout.py), not through the layer to each watcher.
    channel_layer_alias = None
    run_id: str
    group: str
    sent_seq: int | None = None  # None until the client subscribes
    backlog: Backlog | None = None  # None under a server whose backlog cannot be read
    too_slow = False  # closed for reading too slowly: nothing more is sent
    inbox: list[Broadcast] | None = None  # what waits for ``forward_inbox``, while it runs
    forwarder: asyncio.Task[None] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Here rather than in ``disconnect``, which never runs for a consumer the server
            # cancels (daphne does, when one outlives application_close_timeout after its
            # client left): it would stay a watcher of its run, and the run's subscriber
            # would stay subscribed, for the life of the process.
            await asyncio.shield(self.leave())

    async def leave(self) -> None:
        """Stop forwarding and stop being handed the run's messages (the last watcher of a
        run on this process ends the process's subscription to it)."""
        if self.forwarder is not None:
            self.forwarder.cancel()
        if getattr(self, "group", None):
            fanout.leave(self.group, self)
            await database_sync_to_async(metrics.websocket_disconnected)("run")

    async def connect(self) -> None:
        # Accept first: a close code can only be sent on an open websocket.
        await self.accept()
        self.backlog = self.scope.get("backlog")  # runs.backlog.BacklogMiddleware
        user = await admitted_user(self)
        if user is None:
            return
        self.user = user
        run = await watchable_run(user, self.scope["url_route"]["kwargs"]["run_id"])
        if run is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.run_id, self.group = str(run.id), run.group_name
        self.sending = asyncio.Lock()
        await fanout.join(self.run_id, self.group, self, MESSAGE_MAX_BYTES)
        await database_sync_to_async(metrics.websocket_connected)("run")

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

    # --- the run's messages, from runs/fanout.py --------------------------------------

    def take(self, broadcast: Broadcast) -> None:
        """Send ``broadcast`` now if nothing else is under way for this watcher and it can
        go as it is, the frame every watcher shares, straight to the socket; else queue it
        for the watcher's own task, so that one watcher's catch-up from the database or
        backlog to wait out holds up no other watcher of the run. Never waits."""
        if self.sent_seq is None or self.too_slow:
            return  # not subscribed yet: the subscription's catch-up will include these
        if self.inbox is None:
            last = broadcast.last_seq
            if last is not None and last <= self.sent_seq:
                return  # already sent (from the database, or a repeat), or nothing lost
            if not self.sending.locked() and self.sent_now(broadcast):
                return
            self.inbox = []
            self.forwarder = asyncio.create_task(self.forward_inbox())
        self.inbox.append(broadcast)
        self.bound_inbox()

    def bound_inbox(self) -> None:
        """Keep what waits for this watcher under about ``WATCHER_MAX_BACKLOG_BYTES``: once
        the events messages at the end of its inbox hold more than that, they become one
        word that the run has stored events up to the last of them, which the watcher
        fetches from the database when its turn comes (or, closed for reading too slowly,
        after it connects again). A watcher that falls behind while events arrive fast held
        every message until its wait for the limit ran out: 15 MB and more of a 25 MB run."""
        assert self.inbox is not None
        size, tail = 0, 0
        for waiting in reversed(self.inbox):
            if waiting.last_seq is None:
                break  # a summary or a delta: what follows it keeps its place
            size, tail = size + len(waiting.text or ""), tail + 1
        if tail > 1 and size > settings.WATCHER_MAX_BACKLOG_BYTES:
            last = self.inbox[-1].last_seq
            del self.inbox[-tail:]
            self.inbox.append(Broadcast(None, last_seq=last))

    def sent_now(self, broadcast: Broadcast) -> bool:
        """Whether ``broadcast`` went to the socket as the shared frame (no ASGI, no wait)."""
        assert self.sent_seq is not None
        backlog, first = self.backlog, broadcast.first_seq
        if (
            backlog is None
            or broadcast.text is None  # the database has events this watcher has not had
            or backlog.unsent_bytes() > settings.WATCHER_MAX_BACKLOG_BYTES
            or (first is not None and (first != self.sent_seq + 1 or not fits(broadcast.text)))
            or not backlog.send_prepared(broadcast.prepared())
        ):
            return False
        if broadcast.last_seq is not None:
            self.sent_seq = broadcast.last_seq
        return True

    async def forward_inbox(self) -> None:
        try:
            async with self.sending:
                while self.inbox and not self.too_slow:
                    await self.forward(self.inbox.pop(0))
        finally:
            self.inbox = None

    async def forward(self, broadcast: Broadcast) -> None:
        assert self.sent_seq is not None
        first, last = broadcast.first_seq, broadcast.last_seq
        if last is not None and last <= self.sent_seq:
            return  # already sent (from the database, or a repeat), or nothing lost
        if broadcast.text is None:
            await self.catch_up()  # the run has stored events past the last one sent
            return
        if first is None or last is None:
            await self.send(text_data=broadcast.text)
            return
        if first > self.sent_seq + 1:
            await self.catch_up(upto=first - 1)
        if first == self.sent_seq + 1 and fits(broadcast.text):
            await self.send(text_data=broadcast.text)
            self.sent_seq = last
        else:
            await self.send_events(json.loads(broadcast.text)["events"])
