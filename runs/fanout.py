"""The watchers of a run on one web process share one subscription to its group.

channels-redis's pubsub layer already subscribes once per group per process, but then it
puts each message in the queue of every member consumer, and each consumer takes it through
channels' dispatch on its own (a task per receive, a msgpack decode, the handler): with a
thousand watchers of one run that work, times every message, was what held the live stream
up (docs/reliability.md, "Watchers"). Here one subscriber per run and process receives the
run's messages once, merges the events messages that queued up while it was handing out the
last ones into one message (so under load there are fewer, larger frames, not a longer
queue), and hands each message, with its websocket text made once, to every watcher of the
run on this process, in order (``RunConsumer.take``).

Delivery does not depend on the layer being lossless: a watcher fetches from the database
what a live message skips over, and while the run is active and its live stream is quiet,
this subscriber asks the database for the run's last seq every ``RUN_WATCH_POLL_S`` and hands
that on, so a watcher short of it (the layer lost the run's last events: a Redis restart)
catches up. One query per run and process, not one per watcher: a thousand watchers each
polling were a thousand queries a poll.

Nor does it depend on the subscription lasting: when receiving fails (a layer whose receive
raises while Redis is away, a message the layer cannot read), the subscriber logs it and
subscribes again, backing off, for as long as the run has watchers here; the polls cover the
gap. (channels-redis's pubsub layer rides out a Redis restart by itself: redis-py subscribes
again when it reconnects.)

A message that lacks what its type carries (a later version's, a bug's) is logged and skipped;
the subscriber goes on with the next, so one bad message never deafens a run's watchers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import dataclass, field
from typing import Any, Protocol

from autobahn.websocket.protocol import PreparedMessage
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Max

from .broadcast import merged_events
from .models import Run, RunEvent

log = logging.getLogger(__name__)

#: Watchers handed a message between two yields to the event loop: handing one out to a
#: thousand takes tens of milliseconds, and the sockets, the connects and the pings of the
#: process should not wait for all of it.
WATCHERS_PER_SLICE = 100


@dataclass(slots=True)
class Broadcast:
    """One message for the watchers of a run: its websocket ``text``, and for an events
    message the seqs it holds (else None). With no text, word that the run has stored events
    up to ``last_seq``: a watcher that has sent fewer fetches the rest."""

    text: str | None
    first_seq: int | None = None
    last_seq: int | None = None
    _prepared: PreparedMessage | None = field(default=None, repr=False, compare=False)

    def prepared(self) -> PreparedMessage:
        """The text as one websocket frame, made once for every watcher (autobahn's way
        of sending one message on many connections)."""
        if self._prepared is None:
            assert self.text is not None
            self._prepared = PreparedMessage(self.text.encode(), False, False, True)
        return self._prepared

    @classmethod
    def of(cls, message: dict[str, Any]) -> Broadcast | None:
        kind = message.get("type")
        if kind == "run.events":
            return cls(message["text"], message["first_seq"], message["last_seq"])
        if kind == "run.delta":
            delta = {k: message[k] for k in ("agent", "span_id", "text")}
            return cls(json.dumps({"type": "delta", **delta}))
        if kind == "run.summary":
            return cls(json.dumps({"type": "run", "run": message["run"]}))
        return None


class Watcher(Protocol):
    def take(self, broadcast: Broadcast) -> None:
        """Send ``broadcast``, or queue it for later, without waiting."""


#: After a failed receive, the first new subscription is tried after this long, each later
#: one after twice the last, up to the cap, and each with jitter (a Redis restart fails the
#: receives of every run watched on the process at once).
RESUBSCRIBE_FIRST_S = 0.5
RESUBSCRIBE_MAX_S = 10.0


def resubscribe_delay_s(attempt: int) -> float:
    return min(RESUBSCRIBE_FIRST_S * 2**attempt, RESUBSCRIBE_MAX_S) * random.uniform(0.5, 1.0)


async def release(layer: Any, channel: str) -> None:
    """Let the layer drop ``channel``: the pubsub layer unsubscribes a channel, and forgets
    its queue, only when a receive on it is cancelled."""
    receiving = asyncio.create_task(layer.receive(channel))
    await asyncio.sleep(0)
    receiving.cancel()
    with contextlib.suppress(BaseException):
        await receiving


def watch_poll_s() -> float:
    return float(getattr(settings, "RUN_WATCH_POLL_S", 2.0))


@database_sync_to_async
def stored_up_to(run_id: str) -> tuple[bool, int]:
    """Whether the run is active, and the last seq it has stored."""
    active = Run.objects.filter(id=run_id, status__in=Run.ACTIVE_STATUSES).exists()
    last = RunEvent.objects.filter(run_id=run_id).aggregate(last=Max("seq"))["last"]
    return active, last or 0


class RunFanout:
    """The watchers of one run on this process, and the tasks that feed them."""

    def __init__(self, run_id: str, group: str, max_bytes: int) -> None:
        self.run_id = run_id
        self.group = group
        self.max_bytes = max_bytes
        self.watchers: dict[Watcher, None] = {}  # in the order they joined
        self.subscribed = asyncio.get_running_loop().create_future()
        self.live_since_poll = False  # whether the layer brought events since the last poll
        self._task = asyncio.create_task(self._feed(), name=f"fanout-{group}")

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def _feed(self) -> None:
        layer = get_channel_layer()
        try:
            channel = await layer.new_channel()
            await layer.group_add(self.group, channel)
        except BaseException as error:
            self.subscribed.set_exception(error)
            raise
        self.subscribed.set_result(None)
        queued: list[dict[str, Any]] = []
        wake = asyncio.Event()
        listening = asyncio.create_task(
            self._listen(layer, channel, queued, wake), name=f"fanout-{self.group}-listen"
        )
        polling = asyncio.create_task(self._poll(), name=f"fanout-{self.group}-poll")
        try:
            while True:
                await wake.wait()
                wake.clear()
                messages, queued[:] = list(queued), []
                # One malformed: each goes on its own (and that one is skipped below).
                with contextlib.suppress(Exception):
                    messages = merged_events(messages, self.max_bytes)
                for message in messages:
                    try:
                        broadcast = Broadcast.of(message)
                    except Exception:  # lacks a field (a later version, a bug): not the end
                        log.warning(
                            "Skipped a malformed message of %s: %.300r", self.group, message
                        )
                        continue
                    if broadcast is not None:
                        self.live_since_poll |= broadcast.last_seq is not None
                        await self._hand_out(broadcast)
        finally:
            polling.cancel()
            listening.cancel()  # the pubsub layer unsubscribes the channel then
            with contextlib.suppress(BaseException):
                await listening
            with contextlib.suppress(Exception):
                await layer.group_discard(self.group, channel)

    async def _poll(self) -> None:
        """While the run is active, hand on the last seq it stored, once the live stream has
        gone quiet: while events arrive, a lost one shows as a gap before the next."""
        while True:
            await asyncio.sleep(watch_poll_s())
            if self.live_since_poll:
                self.live_since_poll = False
                continue
            try:
                active, last = await stored_up_to(self.run_id)
            except Exception:  # the database is away: the next poll asks again
                log.warning("Could not poll run %s for its watchers", self.run_id, exc_info=True)
                continue
            await self._hand_out(Broadcast(None, None, last))
            if not active:
                return

    async def _listen(
        self, layer: Any, channel: str, queued: list[Any], wake: asyncio.Event
    ) -> None:
        """Receive the run's messages into ``queued``. When receiving fails (Redis away, a
        message the layer cannot read), say so and subscribe again, for as long as the
        fan-out lives (its last watcher cancels it); meanwhile the polls catch the watchers
        up on what the live stream lost."""
        attempt = 0
        while True:
            try:
                while True:
                    queued.append(await layer.receive(channel))
                    wake.set()
                    attempt = 0
            except Exception:
                log.warning(
                    "Lost the live stream of %s; subscribing again", self.group, exc_info=True
                )
            try:
                attempt = await self._subscribe_again(layer, channel, attempt)
            except asyncio.CancelledError:
                await release(layer, channel)  # cancelled between receives
                raise

    async def _subscribe_again(self, layer: Any, channel: str, attempt: int) -> int:
        """Add ``channel`` to the run's group again, backing off from ``attempt``, until it
        holds; the attempts made so far."""
        while True:
            await asyncio.sleep(resubscribe_delay_s(attempt))
            attempt += 1
            try:
                await layer.group_add(self.group, channel)
                return attempt
            except Exception:
                log.warning("Could not subscribe to %s again", self.group, exc_info=True)

    async def _hand_out(self, broadcast: Broadcast) -> None:
        watchers = list(self.watchers)
        for start in range(0, len(watchers), WATCHERS_PER_SLICE):
            for watcher in watchers[start : start + WATCHERS_PER_SLICE]:
                try:
                    watcher.take(broadcast)
                except Exception:  # one watcher's failure is not the others'
                    log.exception("Could not hand a broadcast of %s to a watcher", self.group)
            await asyncio.sleep(0)

    def close(self) -> None:
        self._task.cancel()


_fanouts: dict[tuple[asyncio.AbstractEventLoop, str], RunFanout] = {}


async def join(run_id: str, group: str, watcher: Watcher, max_bytes: int) -> None:
    """Hand ``watcher`` every message of the run's ``group`` from now on (once this
    returns), and the polls' word of what the run has stored."""
    key = (asyncio.get_running_loop(), group)
    fanout = _fanouts.get(key)
    if fanout is None or not fanout.running:
        # (A subscriber that failed, Redis being down, is replaced by the next watcher.)
        fanout = _fanouts[key] = RunFanout(run_id, group, max_bytes)
    fanout.watchers[watcher] = None
    try:
        await asyncio.shield(fanout.subscribed)
    except BaseException:
        leave(group, watcher)
        raise


def leave(group: str, watcher: Watcher) -> None:
    """Stop handing ``watcher`` messages; the last watcher of a run ends its subscription."""
    key = (asyncio.get_running_loop(), group)
    fanout = _fanouts.get(key)
    if fanout is None:
        return
    fanout.watchers.pop(watcher, None)
    if not fanout.watchers:
        del _fanouts[key]
        fanout.close()
