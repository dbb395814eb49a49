"""Runs on real Celery worker processes, watched through a live daphne server with a real
websocket client: every event in order exactly once (also across a reconnect), a worker
killed with -9 replaced without repeating a completed model call, a Redis restart survived,
a person's answer resuming a run that held no worker."""

import asyncio
import itertools
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect

from runs.engine.events import TERMINAL_TYPES
from runs.models import Run, RunEvent
from teams.models import ApiToken
from tests.factories import (
    approval_pipeline_spec,
    make_model_config,
    make_team,
    make_user,
    minimal_spec,
)
from tests.runs.helpers import assert_sound_trail, logged_in, start, until, wait_for_status
from tests.runs.live import PrivateRedis, Worker, daphne, start_worker
from tests.support.openai_server import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


@pytest.fixture
async def ws_url(stack: PrivateRedis) -> AsyncIterator[str]:
    with daphne(stack) as url:
        yield url


def three_step_pipeline() -> dict[str, Any]:
    """research -> draft -> edit, each one model call to the scripted server."""
    agents = ["research", "draft", "edit"]
    return minimal_spec(
        "pipeline",
        entry="research",
        nodes=[
            {"kind": "agent", "id": a, "name": a.capitalize(), "model": "scripted"} for a in agents
        ],
        edges=[
            {"id": f"e{i}", "source": a, "target": b, "kind": "next"}
            for i, (a, b) in enumerate(itertools.pairwise(agents))
        ],
    )


def scripted_team_run(base_url: str) -> tuple[str, str, Any]:
    """Alice's run of the three-step pipeline; returns (run id, bearer token, client)."""
    alice = make_user()
    make_model_config(alice, base_url)
    team = make_team(alice, three_step_pipeline())
    client = logged_in(alice)
    token = ApiToken.issue(alice, "watcher")[1]
    return start(client, team.id, {"task": "Explain the ledger"}), token, client


async def watch(
    url: str, run_id: str, token: str, after_seq: int = 0, stop_at: int | None = None
) -> list[dict[str, Any]]:
    """Events a websocket client receives until the run's terminal event (or seq ``stop_at``)."""
    received: list[dict[str, Any]] = []
    headers = [("Authorization", f"Bearer {token}")]
    async with connect(f"{url}/ws/runs/{run_id}/", additional_headers=headers) as socket:
        await socket.send(json.dumps({"type": "subscribe", "after_seq": after_seq}))
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), 60))
            if message["type"] != "events":
                continue
            received += message["events"]
            if received[-1]["type"] in TERMINAL_TYPES or (
                stop_at and received[-1]["seq"] >= stop_at
            ):
                return received


async def stored(run_id: str) -> list[int]:
    return await sync_to_async(
        lambda: list(
            RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", flat=True)
        )
    )()


def no_completed_call_repeated(server: Any) -> None:
    repeats = {
        k: n for k, n in Counter(r.activity_key for r in server.completed()).items() if n > 1
    }
    assert repeats == {}, f"completed model calls made again: {repeats}"


async def test_a_watcher_sees_every_event_in_order_exactly_once(
    openai_server: Any, worker: Worker, ws_url: str
) -> None:
    openai_server.on(lambda r: True, Reply.text("A careful answer, streamed.", delay_s=0.3))
    run_id, token, _ = await sync_to_async(scripted_team_run)(openai_server.base_url)

    events = await watch(ws_url, run_id, token)

    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    assert [e["seq"] for e in events] == await stored(run_id)
    await sync_to_async(assert_sound_trail)(run)


async def test_a_watcher_that_reconnects_misses_nothing_and_gets_nothing_twice(
    openai_server: Any, worker: Worker, ws_url: str
) -> None:
    openai_server.on(lambda r: True, Reply.text("Slow and steady.", delay_s=0.5))
    run_id, token, _ = await sync_to_async(scripted_team_run)(openai_server.base_url)

    before = await watch(ws_url, run_id, token, stop_at=3)
    after = await watch(ws_url, run_id, token, after_seq=before[-1]["seq"])

    seqs = [e["seq"] for e in before + after]
    assert seqs == list(range(1, len(seqs) + 1))
    assert seqs == await stored(run_id)


async def test_a_worker_killed_mid_run_is_replaced_without_repeating_completed_calls(
    openai_server: Any, stack: PrivateRedis, worker: Worker
) -> None:
    openai_server.on(lambda r: True, Reply.text("One step done.", delay_s=1.0))
    run_id, _, _ = await sync_to_async(scripted_team_run)(openai_server.base_url)

    # The first model call has completed and the second is in flight: kill -9.
    await until(lambda: len(openai_server.log) == 2 and len(openai_server.completed()) == 1)
    worker.kill_hard()
    await asyncio.sleep(3.5)  # its heartbeat goes stale
    assert (await Run.objects.aget(id=run_id)).status == "running"

    replacement = await asyncio.to_thread(start_worker, stack, "second")
    try:
        run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed")
    finally:
        replacement.stop()
    assert run.status == "succeeded", run.failure_reason
    no_completed_call_repeated(openai_server)
    assert len(openai_server.completed()) == 3
    await sync_to_async(assert_sound_trail)(run)


async def test_a_redis_restart_mid_run_is_survived_and_watchers_catch_up(
    openai_server: Any, stack: PrivateRedis, worker: Worker, ws_url: str
) -> None:
    openai_server.on(lambda r: True, Reply.text("Still here.", delay_s=1.0))
    run_id, token, _ = await sync_to_async(scripted_team_run)(openai_server.base_url)
    watcher = asyncio.create_task(watch(ws_url, run_id, token))

    await until(lambda: len(openai_server.log) == 1)
    await asyncio.to_thread(stack.restart)

    events = await watcher
    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    assert [e["seq"] for e in events] == await stored(run_id)
    await sync_to_async(assert_sound_trail)(run)


async def test_a_waiting_run_holds_no_worker_and_the_answer_resumes_it(worker: Worker) -> None:
    alice = await sync_to_async(make_user)()
    team = await sync_to_async(make_team)(alice, approval_pipeline_spec())
    client = await sync_to_async(logged_in)(alice)
    run_id = await sync_to_async(start)(client, team.id, "a post")

    await sync_to_async(wait_for_status)(run_id, "waiting")
    from orchestration_site.celery import app

    active = await asyncio.to_thread(lambda: app.control.inspect(timeout=5).active())
    assert active and all(tasks == [] for tasks in active.values())

    answer = json.dumps({"answer": "Approved"})
    response = await sync_to_async(client.post)(
        f"/api/runs/{run_id}/answer", answer, content_type="application/json"
    )
    assert response.status_code == 200
    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    await sync_to_async(assert_sound_trail)(run)
