"""Runs execute on a thread of the web process (the embedded default) with the same code the
Celery task uses: to the end, waiting for a person without holding an executor, cancelled
during a model call, failed with a reason."""

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.factories import (
    approval_pipeline_spec,
    make_team,
    make_user,
    supervisor_spec,
)
from tests.runs.helpers import (
    assert_sound_trail,
    logged_in,
    scripted_team,
    start,
    until,
    wait_for_status,
)
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_ENGINE_OPTIONS = {"retry_base_s": 0.01, "retry_cap_s": 0.05}
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")


def test_a_run_executes_to_the_end_and_its_trail_verifies() -> None:
    alice = make_user()
    team = make_team(alice, supervisor_spec())
    run_id = start(logged_in(alice), team.id, {"task": "Write a haiku about ledgers"})

    run = wait_for_status(run_id, "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    events = assert_sound_trail(run)
    assert (events[0].type, events[-1].type) == ("run.started", "run.finished")
    assert run.output is not None and run.started_at and run.finished_at
    assert run.claimed_by == ""


def test_a_human_node_waits_without_an_executor_and_the_answer_resumes_it() -> None:
    alice = make_user()
    client = logged_in(alice)
    team = make_team(alice, approval_pipeline_spec())
    run_id = start(client, team.id, "a post about the quarter")

    waiting = wait_for_status(run_id, "waiting", "failed")
    assert waiting.status == "waiting"
    # Nobody holds it: no executor claim, no heartbeat.
    assert (waiting.claimed_by, waiting.heartbeat_at) == ("", None)
    pending = client.get(f"/api/runs/{run_id}").json()["pending_human"]
    assert pending["prompt"] == "Approve the draft?"

    response = client.post(
        f"/api/runs/{run_id}/answer",
        json.dumps({"answer": "Ship it"}),
        content_type="application/json",
    )
    assert response.status_code == 200

    run = wait_for_status(run_id, "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    types = [e.type for e in assert_sound_trail(run)]
    assert types.count("run.started") == 1 and "human.answered" in types
    assert types.index("human.answered") > types.index("human.requested")


async def test_cancel_during_a_model_call_ends_the_run_within_seconds(openai_server: Any) -> None:
    openai_server.on(lambda r: True, Reply.text("too late", delay_s=60))
    alice, team = await sync_to_async(scripted_team)(openai_server.base_url)
    client = await sync_to_async(logged_in)(alice)
    run_id = await sync_to_async(start)(client, team.id, "take your time")

    # The model call is in flight when the person cancels.
    await until(lambda: len(openai_server.log) == 1)
    response = await sync_to_async(client.post)(f"/api/runs/{run_id}/cancel")
    assert response.status_code == 200

    run = await sync_to_async(wait_for_status)(
        run_id, "cancelled", "failed", "succeeded", within_s=10
    )
    assert run.status == "cancelled"
    events = await sync_to_async(assert_sound_trail)(run)
    assert events[-1].type == "run.cancelled"
    assert openai_server.completed() == []


async def test_a_model_that_refuses_fails_the_run_with_a_reason(openai_server: Any) -> None:
    openai_server.on(lambda r: True, Reply.error(400))
    alice, team = await sync_to_async(scripted_team)(openai_server.base_url)
    run_id = await sync_to_async(start)(await sync_to_async(logged_in)(alice), team.id, "go")

    run = await sync_to_async(wait_for_status)(run_id, "failed", "succeeded")
    assert run.status == "failed"
    assert run.failure_reason
    events = await sync_to_async(assert_sound_trail)(run)
    assert events[-1].type == "run.failed"


async def test_a_replay_reaches_the_same_output_without_calling_the_model(
    openai_server: Any,
) -> None:
    openai_server.on(lambda r: True, Reply.text("The recorded answer"))
    alice, team = await sync_to_async(scripted_team)(openai_server.base_url)
    client = await sync_to_async(logged_in)(alice)
    original = await sync_to_async(wait_for_status)(
        await sync_to_async(start)(client, team.id, "go"), "succeeded", "failed"
    )
    calls = len(openai_server.log)

    response = await sync_to_async(client.post)(f"/api/runs/{original.id}/replay")
    assert response.status_code == 201
    replay = await sync_to_async(wait_for_status)(response.json()["id"], "succeeded", "failed")

    assert (replay.status, replay.output) == ("succeeded", original.output)
    assert len(openai_server.log) == calls
    await sync_to_async(assert_sound_trail)(replay)


def test_runs_that_start_together_are_each_executed_once_even_if_delivered_twice() -> None:
    # A worker claims the runs that arrive together in one round; a run whose message was
    # delivered twice in that round must still run once, not twice side by side.
    from runs.actions import new_run
    from runs.execution import execute, run_loop

    alice = make_user()
    team = make_team(alice, supervisor_spec())
    version = team.versions.get(number=team.version)
    ids = [str(new_run(alice, version, {"task": f"Haiku {n}"}).id) for n in range(6)]

    async def deliver() -> list[str | None]:
        return await asyncio.gather(*(execute(run_id) for run_id in [*ids, ids[0], ids[3]]))

    statuses = run_loop.submit(deliver()).result(timeout=60)

    assert statuses[:6] == ["succeeded"] * 6
    assert statuses[6:] == [None, None]  # the second deliveries found nothing to do
    for run_id in ids:
        run = wait_for_status(run_id, "succeeded")
        events = assert_sound_trail(run)
        assert [e.type for e in events].count("run.started") == 1
