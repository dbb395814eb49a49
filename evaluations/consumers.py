"""The experiment websocket (``/ws/experiments/<id>/``): the experiment's progress, status,
cost and running means as they change (``"type": "progress"``), and one last message with
the summary when it has ended (``"type": "ended"``), after which the server closes.

Each process reads an experiment's progress once for all of its watchers there
(``ExperimentWatch``): when a step's notice comes through the channel layer
(``evaluations.live.announce``), at most every ``EXPERIMENT_WATCH_INTERVAL_S``, and every
``RUN_WATCH_POLL_S`` while it is quiet, so a notice the layer lost (or a layer that cannot
carry one across processes) delays an update and never stops it.

A watcher is sent the latest state only once what it was sent before has left the process:
each message is the whole state, so one that reads slowly skips to the newest rather than
have messages pile up for it (daphne's transport keeps whatever the socket does not take,
without bound; ``runs.backlog``). The process holds at most one message waiting for it and
one unread; nobody is closed for reading slowly, as a run's watcher is (code 4008), since
skipping loses nothing here. Watchers are counted in ``orchestrator_websocket_clients``
with ``socket="experiment"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings

from runs import metrics
from runs.backlog import Backlog
from runs.consumers import CLOSE_FORBIDDEN, admitted_user
from runs.fanout import watch_poll_s
from workspaces import access

from .live import group_name, progress_message
from .models import Experiment

log = logging.getLogger(__name__)

#: What watching an experiment needs (the generated permission tests read it).
WATCH_PERMISSION = "experiment.view"
#: The experiment has ended: its last message was sent.
CLOSE_ENDED = 1000
#: How often a watcher whose last message has not left the process yet looks again.
UNREAD_POLL_S = 0.05


def watch_interval_s() -> float:
    return float(getattr(settings, "EXPERIMENT_WATCH_INTERVAL_S", 0.5))


@database_sync_to_async
def watchable_experiment(user: Any, experiment_id: str) -> Experiment | None:
    """The experiment if ``user`` may watch it; None (refused alike) whether it does not
    exist, lives in a workspace they are not in, or their role (or token) does not allow it."""
    try:
        return access.get_object(Experiment.objects.all(), user, WATCH_PERMISSION, pk=experiment_id)
    except (access.NotFound, access.Forbidden):
        return None


read_progress = database_sync_to_async(progress_message)


class ExperimentWatch:
    """The watchers of one experiment on this process, and the task that reads its progress
    for them. The latest message is kept, so a watcher who joins gets it at once."""

    def __init__(self, experiment_id: int) -> None:
        self.experiment_id = experiment_id
        self.watchers: dict[ExperimentConsumer, None] = {}
        self.latest: str | None = None
        self.ended = False  # the latest message is the last: nothing more to read
        self.changed = asyncio.Event()
        self._task = asyncio.create_task(self._feed(), name=f"experiment-watch-{experiment_id}")

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def _feed(self) -> None:
        layer = get_channel_layer()
        channel = None
        receiving = None
        try:
            if layer is not None:
                try:
                    channel = await layer.new_channel()
                    await layer.group_add(group_name(self.experiment_id), channel)
                except Exception:  # Redis is away: polling alone still gets there
                    log.warning("Could not subscribe to experiment %s", self.experiment_id)
                    channel = None
                else:
                    receiving = asyncio.create_task(self._receive(layer, channel))
            await self._read_until_ended()
        finally:
            if receiving is not None:
                receiving.cancel()
            if channel is not None:
                with contextlib.suppress(Exception):
                    await layer.group_discard(group_name(self.experiment_id), channel)

    async def _receive(self, layer: Any, channel: str) -> None:
        while True:
            await layer.receive(channel)
            self.changed.set()

    async def _read_until_ended(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            read_at = loop.time()
            self.changed.clear()
            try:
                message = await read_progress(self.experiment_id)
            except Exception:  # the database is away: the next round asks again
                log.warning("Could not read experiment %s", self.experiment_id, exc_info=True)
                message = {}
            if message is None:  # deleted: nothing more will come (one who joins later
                # gets a watch of its own, which finds it gone and closes them alike)
                for watcher in list(self.watchers):
                    watcher.take(None)
                return
            if message:
                text = json.dumps(message)
                self.ended = message["type"] == "ended"
                if text != self.latest:
                    self.latest = text
                    for watcher in list(self.watchers):
                        watcher.take(text, last=self.ended)
                if self.ended:
                    return
            # Coalesce: a busy experiment is read at most once an interval...
            await asyncio.sleep(max(0.0, read_at + watch_interval_s() - loop.time()))
            # ...and a quiet one once a poll, in case its notices were lost.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), watch_poll_s())

    def close(self) -> None:
        self._task.cancel()


_watches: dict[tuple[asyncio.AbstractEventLoop, int], ExperimentWatch] = {}


def join(experiment_id: int, watcher: ExperimentConsumer) -> ExperimentWatch:
    key = (asyncio.get_running_loop(), experiment_id)
    watch = _watches.get(key)
    if watch is None or not (watch.running or watch.ended):
        watch = _watches[key] = ExperimentWatch(experiment_id)
    watch.watchers[watcher] = None
    return watch


def leave(experiment_id: int, watcher: ExperimentConsumer) -> None:
    key = (asyncio.get_running_loop(), experiment_id)
    watch = _watches.get(key)
    if watch is None:
        return
    watch.watchers.pop(watcher, None)
    if not watch.watchers:
        del _watches[key]
        watch.close()


class ExperimentConsumer(AsyncWebsocketConsumer):
    # No channel of its own: the experiment's messages come from this process's one
    # ``ExperimentWatch`` of it.
    channel_layer_alias = None
    experiment_id: int | None = None
    outbox: asyncio.Queue[tuple[str, bool] | None]
    sender: asyncio.Task[None] | None = None
    backlog: Backlog | None = None  # None under a server whose backlog cannot be read

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Here, not in ``disconnect``, which a consumer the server cancels never runs.
            if self.sender is not None:
                self.sender.cancel()
            if self.experiment_id is not None:
                leave(self.experiment_id, self)
                await asyncio.shield(self.counted(connected=False))

    @staticmethod
    async def counted(connected: bool) -> None:
        count = metrics.websocket_connected if connected else metrics.websocket_disconnected
        await database_sync_to_async(count)("experiment")

    async def connect(self) -> None:
        await self.accept()  # a close code can only be sent on an open websocket
        self.backlog = self.scope.get("backlog")  # runs.backlog.BacklogMiddleware
        user = await admitted_user(self)
        if user is None:
            return
        experiment_id = self.scope["url_route"]["kwargs"]["experiment_id"]
        experiment = await watchable_experiment(user, experiment_id)
        if experiment is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.outbox = asyncio.Queue()
        self.sender = asyncio.create_task(self._send_outbox())
        await self.counted(connected=True)
        self.experiment_id = experiment.pk  # counted out again from here on
        watch = join(experiment.pk, self)
        if watch.latest is not None:
            self.take(watch.latest, last=watch.ended)

    def take(self, text: str | None, last: bool = False) -> None:
        """Queue ``text`` for this watcher, never waiting (None: the experiment is gone, close;
        ``last``: the experiment has ended, close once it is sent). Each message is the whole
        state, so a watcher still sending the last one skips what waited to the newest."""
        while not self.outbox.empty():
            self.outbox.get_nowait()
        self.outbox.put_nowait(None if text is None else (text, last))

    async def _send_outbox(self) -> None:
        while True:
            queued = await self.outbox.get()
            if self.backlog is not None and self.backlog.unsent_bytes():
                while self.backlog.unsent_bytes():  # the last one sent is still here
                    await asyncio.sleep(UNREAD_POLL_S)
                while not self.outbox.empty():  # a newer state came meanwhile
                    queued = self.outbox.get_nowait()
            if queued is None:
                await self.close(code=CLOSE_FORBIDDEN)  # as for one that never existed
                return
            text, last = queued
            await self.send(text_data=text)
            if last:
                await self.close(code=CLOSE_ENDED)
                return

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Nothing to ask: the server sends everything there is."""
