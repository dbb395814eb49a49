"""On a real Celery worker (PostgreSQL + Redis) a question's ``timeout_s`` fires by itself: the
run waits holding no worker, resumes without an answer, the question fails as
``human_timeout`` and the supervisor goes on. An answer before the deadline leaves nothing to
wake: the run is executed once per resume."""

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import Run, RunEvent
from tests.factories import expert_question_spec, make_team, make_user
from tests.runs.helpers import assert_sound_trail, logged_in, start, wait_for_status
from tests.runs.live import Worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def started(timeout_s: float) -> tuple[Any, str]:
    alice = make_user()
    client = logged_in(alice)
    return client, start(client, make_team(alice, expert_question_spec(timeout_s)).id, "Q3")


def types(run_id: str) -> list[str]:
    return list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("type", flat=True)
    )


def busy_worker_threads() -> list[Any]:
    from orchestration_site.celery import app

    active = app.control.inspect(timeout=3, limit=1).active()
    assert active, "the worker did not answer"
    return [task for tasks in active.values() for task in tasks]


def executions(worker: Worker) -> int:
    return worker.output().count("] received")


async def test_an_unanswered_question_resumes_the_run_by_itself_and_is_routed_around(
    worker: Worker,
) -> None:
    _, run_id = await sync_to_async(started)(timeout_s=5)

    await sync_to_async(wait_for_status)(run_id, "waiting")
    assert await asyncio.to_thread(busy_worker_threads) == []
    waiting = await Run.objects.aget(id=run_id)
    assert waiting.status == "waiting" and waiting.wake_at is not None  # while it was idle

    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed", within_s=60)

    assert run.status == "succeeded", run.failure_reason
    assert run.wake_at is None
    trail = await sync_to_async(types)(run_id)
    assert (trail.count("run.started"), trail.count("human.requested")) == (1, 1)
    [timed_out] = await sync_to_async(list)(RunEvent.objects.filter(run_id=run_id, type="error"))
    assert timed_out.payload["error_type"] == "human_timeout"
    assert "Expert did not answer within 5 s" in timed_out.payload["message"]
    events = await sync_to_async(assert_sound_trail)(run)
    assert events[-1].type == "run.finished"


async def test_an_answer_before_the_deadline_leaves_nothing_to_wake(worker: Worker) -> None:
    client, run_id = await sync_to_async(started)(timeout_s=3)
    await sync_to_async(wait_for_status)(run_id, "waiting")

    answer = json.dumps({"answer": "The audited ones"})
    response = await sync_to_async(client.post)(
        f"/api/runs/{run_id}/answer", answer, content_type="application/json"
    )
    assert response.status_code == 200
    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed")
    recorded = await sync_to_async(types)(run_id)

    await asyncio.sleep(5)  # past the deadline, and past a sweep of the worker

    assert await sync_to_async(types)(run_id) == recorded
    assert recorded.count("human.answered") == 1 and "error" not in recorded
    assert executions(worker) == 2, worker.output()  # the start, and the answer's resume
    assert run.status == "succeeded", run.failure_reason
    await sync_to_async(assert_sound_trail)(run)
