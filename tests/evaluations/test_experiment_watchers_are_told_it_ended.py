"""The experiment websocket through the real ASGI application: a watcher is told at once
when the experiment is cancelled (by the step's notice: the quiet-time poll is a minute
here), and by the poll when the notice is lost; it gets that last message alone if it
connects afterwards, and is closed as for nothing there when the experiment is deleted
under it, or before it joins (never sent the progress of a deleted experiment). A watcher
that reads slowly skips to the newest progress instead of having messages pile up for it,
and watchers are counted in the websocket metric apart from a run's."""

import asyncio
import itertools
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from evaluations import consumers, live
from evaluations.actions import do_cancel
from evaluations.models import Experiment
from orchestration_site.asgi import application
from runs.backlog import Backlog
from tests.ops.test_metrics_endpoint import TOKEN, delta, scrape
from tests.workspaces.test_the_websocket_answers_as_the_matrix_says import (
    credentials,
    shared_experiment,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]


async def watcher(experiment: Experiment, user: Any) -> WebsocketCommunicator:
    url = f"/ws/experiments/{experiment.pk}/"
    socket = WebsocketCommunicator(application, url, headers=[await credentials(user, "")])
    connected, _ = await socket.connect()
    assert connected
    return socket


async def next_message(socket: WebsocketCommunicator, within_s: float = 5) -> dict[str, Any]:
    message = await socket.receive_output(timeout=within_s)
    if message["type"] == "websocket.close":
        return {"closed": message["code"]}
    return json.loads(message["text"])


async def test_a_cancelled_experiment_tells_its_watcher_at_once_and_closes(settings: Any) -> None:
    settings.RUN_WATCH_POLL_S = 60
    experiment, users = await sync_to_async(shared_experiment)()
    socket = await watcher(experiment, users["viewer"])
    try:
        first = await next_message(socket)
        assert first["type"] == "progress" and first["status"] == "running"
        await sync_to_async(do_cancel)(experiment, "olga")
        last = await next_message(socket)
        assert last["type"] == "ended" and last["status"] == "cancelled"
        assert last["summary"] == {} and last["finished_at"]
        assert await next_message(socket) == {"closed": 1000}
    finally:
        await socket.disconnect()

    # Afterwards: the last message alone, then the close.
    late = await watcher(experiment, users["owner"])
    try:
        assert (await next_message(late))["type"] == "ended"
        assert await next_message(late) == {"closed": 1000}
    finally:
        await late.disconnect()


async def test_a_deleted_experiment_closes_its_watchers_as_for_nothing_there(
    settings: Any,
) -> None:
    settings.RUN_WATCH_POLL_S = 0.2
    experiment, users = await sync_to_async(shared_experiment)()
    socket = await watcher(experiment, users["owner"])
    try:
        assert (await next_message(socket))["type"] == "progress"
        await Experiment.objects.filter(pk=experiment.pk).adelete()
        assert await next_message(socket) == {"closed": 4403}
    finally:
        await socket.disconnect()


async def test_a_lost_notice_only_delays_the_news_until_the_next_poll(
    settings: Any, monkeypatch: Any
) -> None:
    settings.RUN_WATCH_POLL_S = 0.5
    experiment, users = await sync_to_async(shared_experiment)()
    socket = await watcher(experiment, users["owner"])
    try:
        assert (await next_message(socket))["type"] == "progress"
        monkeypatch.setattr(live, "announce", lambda experiment_id: None)  # never reaches Redis
        await sync_to_async(do_cancel)(experiment, "olga")
        last = await next_message(socket, within_s=3)
        assert last["type"] == "ended" and last["status"] == "cancelled"
    finally:
        await socket.disconnect()


async def test_a_watcher_who_joins_after_the_delete_is_closed_and_sent_nothing_stale(
    settings: Any, monkeypatch: Any
) -> None:
    settings.RUN_WATCH_POLL_S = 0.2
    experiment, users = await sync_to_async(shared_experiment)()
    first = await watcher(experiment, users["owner"])
    # The late watcher passes the access check while the experiment is there, and joins
    # once it is gone (while the first watcher is still connected, its watch over).
    admitted, gate = asyncio.Event(), asyncio.Event()
    checked = consumers.watchable_experiment

    async def checked_then_held(user: Any, experiment_id: str) -> Any:
        found = await checked(user, experiment_id)
        admitted.set()
        await gate.wait()
        return found

    try:
        assert (await next_message(first))["type"] == "progress"
        monkeypatch.setattr(consumers, "watchable_experiment", checked_then_held)
        late = await watcher(experiment, users["viewer"])
        await asyncio.wait_for(admitted.wait(), 5)
        await Experiment.objects.filter(pk=experiment.pk).adelete()
        assert await next_message(first) == {"closed": 4403}
        gate.set()
        assert await next_message(late) == {"closed": 4403}  # no progress of a deleted one
        await late.disconnect()

        # And one who connects later still is closed alike, never sent anything.
        monkeypatch.setattr(consumers, "watchable_experiment", checked)
        later = await watcher(experiment, users["owner"])
        assert await next_message(later) == {"closed": 4403}
        await later.disconnect()
    finally:
        await first.disconnect()


class UnreadBytes:
    """Stands for daphne's transport (runs/backlog.py): what it holds unsent for the client."""

    def __init__(self) -> None:
        self.held = 0

    def unsent_bytes(self) -> int:
        return self.held


async def test_a_watcher_that_reads_slowly_skips_to_the_newest_progress(
    settings: Any, monkeypatch: Any
) -> None:
    settings.RUN_WATCH_POLL_S = 0.02
    settings.EXPERIMENT_WATCH_INTERVAL_S = 0.02
    experiment, users = await sync_to_async(shared_experiment)()
    transport = UnreadBytes()
    monkeypatch.setattr(Backlog, "of", classmethod(lambda cls, send: transport))
    # The experiment's progress moves on at every read while ``moving`` is set.
    reads, moving, newest = itertools.count(1), True, 0

    async def progress(experiment_id: int) -> dict[str, Any]:
        nonlocal newest
        if moving:
            newest = next(reads)
        return {"type": "progress", "id": experiment_id, "progress": {"done": newest}}

    monkeypatch.setattr(consumers, "read_progress", progress)
    socket = await watcher(experiment, users["owner"])
    try:
        first = (await next_message(socket))["progress"]["done"]
        # The client stops reading: what was sent stays in the process while the progress
        # moves on twenty times...
        transport.held = 5000
        while newest < first + 20:
            await asyncio.sleep(0.02)
        moving = False
        sent_meanwhile = []
        while not await socket.receive_nothing(timeout=0.2):
            sent_meanwhile.append(await next_message(socket))
        assert len(sent_meanwhile) <= 1, sent_meanwhile  # (sent before it stopped)
        # ...and, once it has read that, it is sent the newest alone.
        transport.held = 0
        assert (await next_message(socket))["progress"]["done"] == newest
        assert await socket.receive_nothing(timeout=0.3)
    finally:
        await socket.disconnect()


async def test_experiment_watchers_are_counted_apart_from_run_watchers(
    client: Client, settings: Any
) -> None:
    settings.METRICS_TOKEN = TOKEN
    experiment, users = await sync_to_async(shared_experiment)()
    before = await sync_to_async(scrape)(client)
    socket = await watcher(experiment, users["owner"])
    assert (await next_message(socket))["type"] == "progress"
    during = await sync_to_async(scrape)(client)
    await socket.disconnect()
    after = await sync_to_async(scrape)(client)
    watchers = "orchestrator_websocket_clients"
    assert delta(before, during, watchers, socket="experiment") == 1
    assert delta(before, during, watchers, socket="run") == 0
    assert delta(before, after, watchers, socket="experiment") == 0
