"""Waiting for a published run's output (``POST /p/<slug>/runs?wait=true`` and an MCP tool
call), holding neither a database connection nor a thread while the run goes on.

``settled`` is the one wait: it listens on the run's channel-layer group (``run.<id>``, where
the run's summary is broadcast whenever its status changes) and reads the run from the database
only at the start, when woken, every ``RECHECK_S`` (the layer may lose a message) and at the
end, each read on a connection of its own that is closed again at once.

``reserve`` bounds the waits: ``PUBLICATION_MAX_WAITS_PER_KEY`` per key and
``PUBLICATION_MAX_WAITS`` per web process, checked before the run is started, so a wait over
the bound is a 429 and starts nothing.

Django answers ``?wait=true`` at once; ``deferring`` (around Django in orchestration_site.asgi)
holds that answer back, waits once Django is done with the request (its thread and connection
returned), and answers with the run as the wait left it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import JsonResponse

from orchestration_site.quotas import QuotaExceeded
from runs import fanout
from runs.models import Run

from .actions import run_answer
from .models import Publication, PublicationKey

log = logging.getLogger(__name__)

#: How often a wait reads the run when nothing woke it: the layer may lose the summary.
RECHECK_S = 5.0
#: Where the ASGI wrapper offers to wait after Django has answered (``deferring``).
SCOPE_WAIT = "publication_wait"


@dataclass(eq=False)
class Slot:
    """One wait under way, counted against its key and its process until ``release``."""

    key_id: int
    ends_at: float  # time.monotonic() when the wait runs out at the latest
    released: bool = False

    def release(self) -> None:
        _slots.release(self)


class Slots:
    """The waits under way in this process, per key (thread-safe: the view takes a slot on a
    thread, the wait gives it back on the event loop)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[int, list[Slot]] = {}

    def take(self, key_id: int, within_s: float) -> Slot:
        now = time.monotonic()
        with self._lock:
            mine = self._by_key.get(key_id, [])
            every = [slot for slots in self._by_key.values() for slot in slots]
            per_key, per_process = (
                settings.PUBLICATION_MAX_WAITS_PER_KEY,
                settings.PUBLICATION_MAX_WAITS,
            )
            if len(mine) >= per_key:
                raise QuotaExceeded(
                    f"This key is already waiting for {_runs(len(mine))}, the most one key may "
                    "wait for at once; nothing was started. Try again after "
                    "the time in Retry-After, or start the run without ?wait=true and read "
                    "it at its url.",
                    min(slot.ends_at for slot in mine) - now,
                )
            if len(every) >= per_process:
                raise QuotaExceeded(
                    f"The site is waiting for {_runs(len(every))}, the most it waits for at "
                    "once; nothing was started. Try again after the time "
                    "in Retry-After, or start the run without ?wait=true and read it at its url.",
                    min(slot.ends_at for slot in every) - now,
                )
            slot = Slot(key_id, now + within_s)
            self._by_key.setdefault(key_id, []).append(slot)
            return slot

    def release(self, slot: Slot) -> None:
        with self._lock:
            if slot.released:
                return
            slot.released = True
            mine = self._by_key.get(slot.key_id, [])
            mine.remove(slot)
            if not mine:
                self._by_key.pop(slot.key_id, None)

    def count(self) -> int:
        with self._lock:
            return sum(len(slots) for slots in self._by_key.values())


_slots = Slots()


def _runs(count: int) -> str:
    return "1 run" if count == 1 else f"{count} runs"


def wait_s() -> float:
    return float(settings.PUBLICATION_WAIT_S)


def reserve(key: PublicationKey) -> Slot:
    """A slot for one wait with ``key``; ``QuotaExceeded`` (a 429) when its key or this
    process waits for as many runs as it may. Take it before starting the run."""
    return _slots.take(key.id, wait_s())


def start_holding(key: PublicationKey, start: Callable[[], Run]) -> tuple[Run, Slot]:
    """``start()`` with a wait's slot taken first (``reserve``: a ``QuotaExceeded`` starts
    nothing), given back if the start fails; the run and the slot its wait holds."""
    slot = reserve(key)
    try:
        return start(), slot
    except BaseException:
        slot.release()
        raise


def stopped(run: Run) -> bool:
    """Whether a wait for ``run`` is over: it finished, or it waits for a person."""
    return run.is_finished or run.status == Run.Status.WAITING


def _read(run_id: Any) -> Run:
    return Run.objects.get(pk=run_id)


# Not thread-sensitive: a read goes to any thread of the loop's pool, not to the one thread
# every other thread-sensitive call of the process queues on; and with CONN_MAX_AGE=0 its
# connection is closed again before the wait goes on.
_check = database_sync_to_async(_read, thread_sensitive=False)


async def settled(run: Run, within_s: float | None = None) -> Run:
    """``run`` as read once it has stopped (finished, or waiting for a person), or as it is
    after ``within_s`` (``PUBLICATION_WAIT_S`` by default)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (wait_s() if within_s is None else within_s)
    async with _woken_by(run) as woken:
        while True:
            woken.clear()
            run = await _check(run.pk)
            remaining = deadline - loop.time()
            if stopped(run) or remaining <= 0:
                return run
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), min(remaining, RECHECK_S))


@contextlib.asynccontextmanager
async def _woken_by(run: Run) -> Any:
    """An event set whenever the run's summary is broadcast (its status changed), for as
    long as the block lasts. Without a channel layer (or with Redis away) it is never set,
    and the wait reads the run every ``RECHECK_S`` instead."""
    woken = asyncio.Event()
    layer = get_channel_layer()
    listening: asyncio.Task[None] | None = None
    channel = ""
    if layer is not None:
        try:
            async with asyncio.timeout(RECHECK_S):  # Redis away: do not wait for it first
                channel = await layer.new_channel()
                await layer.group_add(run.group_name, channel)
        except Exception:
            log.warning(
                "Cannot hear run %s; reading it every %s s", run.pk, RECHECK_S, exc_info=True
            )
        else:
            listening = asyncio.create_task(_listen(layer, channel, woken))
    try:
        yield woken
    finally:
        if listening is not None:
            ended = listening.done()  # lost the stream: no receive left to cancel
            listening.cancel()  # the pubsub layer unsubscribes the channel then
            with contextlib.suppress(BaseException):
                await listening
            with contextlib.suppress(Exception):
                if ended:
                    await fanout.release(layer, channel)
                await layer.group_discard(run.group_name, channel)


async def _listen(layer: Any, channel: str, woken: asyncio.Event) -> None:
    try:
        while True:
            message = await layer.receive(channel)
            if message.get("type") == "run.summary":
                woken.set()
    except Exception:  # Redis went away: the rechecks carry the wait on
        log.warning("Lost the live stream of %s while waiting", channel, exc_info=True)


@dataclass
class Deferred:
    """A wait the view leaves to ``deferring``: for ``run``, answered for ``publication``,
    counted by ``slot``."""

    run: Run
    publication: Publication
    slot: Slot


def wait_or_defer(request: Any, run: Run, publication: Publication, slot: Slot) -> Run:
    """Under the site's ASGI application, leave the wait to ``deferring`` and return ``run``
    as it is (the answer the view makes is held back and replaced); elsewhere (a WSGI server,
    Django's test client) wait here, on the request's thread."""
    offered = getattr(request, "scope", {}).get(SCOPE_WAIT)
    if offered is not None:
        offered.append(Deferred(run, publication, slot))
        return run
    try:
        return async_to_sync(settled)(run)
    finally:
        slot.release()


Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def deferring(app: Any, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """Run Django's ``app``; when its view deferred a wait, hold its answer, wait once the
    request is done in Django, and answer with the run then (or, should the wait fail, with
    the answer Django made: the run was started and its url is in it)."""
    offered: list[Deferred] = []
    held: list[dict[str, Any]] = []

    async def hold(message: dict[str, Any]) -> None:
        if offered:
            held.append(message)
        else:
            await send(message)

    try:
        await app({**scope, SCOPE_WAIT: offered}, receive, hold)
    except BaseException:
        for deferred in offered:
            deferred.slot.release()
        raise
    if not offered:
        return
    deferred = offered[0]
    try:
        if held and held[0].get("status") == 201:
            run = await _until_settled_or_gone(deferred.run, receive)
            if run is None:
                return  # the caller left; the run goes on
            held = _answered(held[0], run_answer(deferred.publication, run))
    except Exception:
        log.exception("Waiting for run %s failed; answering with it as it was", deferred.run.pk)
    finally:
        deferred.slot.release()
    for message in held:
        await send(message)


async def _until_settled_or_gone(run: Run, receive: Receive) -> Run | None:
    """``settled(run)``, or None as soon as the caller disconnects."""
    waiting = asyncio.ensure_future(settled(run))
    gone = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait((waiting, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiting, gone):
            task.cancel()
    return waiting.result() if waiting.done() and not waiting.cancelled() else None


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def _answered(start: dict[str, Any], answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The held response's start (its status and headers) with ``answer`` as the body."""
    body = JsonResponse(answer).content
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    return [{**start, "headers": headers}, {"type": "http.response.body", "body": body}]
