"""In the embedded default (runs on a thread of the web process) a question's ``timeout_s``
fires by itself: the run resumes without an answer, the question fails as ``human_timeout``
and the supervisor goes on. An answer before the deadline makes the wake a no-op, and a
deadline that passed while nothing swept is caught up by the first sweep."""

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from runs import execution, wakes
from runs.models import Run, RunEvent
from tests.factories import expert_question_spec, make_team, make_user
from tests.runs.helpers import assert_sound_trail, logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread_that_wakes_runs(settings: Any) -> Iterator[None]:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_ENGINE_OPTIONS = {"retry_base_s": 0.01, "retry_cap_s": 0.05}
    # Sweeps come a minute apart: a short deadline is kept by the process that recorded it.
    settings.RUN_WAKE_SWEEP_S = 60
    wakes.start()
    yield
    wakes.stop()


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The run ids the engine executed, once per execution."""
    executed: list[str] = []
    run_engine = execution.run_engine

    async def counted(claimed: Any, *args: Any) -> Any:
        executed.append(str(claimed.run.id))
        return await run_engine(claimed, *args)

    monkeypatch.setattr(execution, "run_engine", counted)
    return executed


def started(timeout_s: float) -> tuple[Client, str]:
    alice = make_user()
    client = logged_in(alice)
    return client, start(
        client, make_team(alice, expert_question_spec(timeout_s)).id, "the Q3 report"
    )


def types(run_id: str) -> list[str]:
    return list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("type", flat=True)
    )


def test_an_unanswered_question_fails_at_its_deadline_and_the_supervisor_goes_on(
    executions: list[str],
) -> None:
    client, run_id = started(timeout_s=1)

    waiting = wait_for_status(run_id, "waiting", "failed", "succeeded")
    assert waiting.status == "waiting" and waiting.wake_at is not None
    assert (waiting.claimed_by, waiting.heartbeat_at) == ("", None)  # nobody holds it
    assert client.get(f"/api/runs/{run_id}").json()["wake_at"] is not None

    run = wait_for_status(run_id, "succeeded", "failed", within_s=20)

    assert run.status == "succeeded", run.failure_reason
    assert run.wake_at is None and executions == [run_id, run_id]
    [timed_out] = RunEvent.objects.filter(run_id=run_id, type="error")
    assert timed_out.payload["error_type"] == "human_timeout"
    assert timed_out.payload["recoverable"] is True
    assert "Expert did not answer within 1 s" in timed_out.payload["message"]
    assert assert_sound_trail(run)[-1].type == "run.finished"


def test_an_answer_before_the_deadline_makes_the_wake_a_no_op(executions: list[str]) -> None:
    client, run_id = started(timeout_s=2)
    wait_for_status(run_id, "waiting")

    response = client.post(
        f"/api/runs/{run_id}/answer",
        json.dumps({"answer": "The audited ones"}),
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["wake_at"] is None
    run = wait_for_status(run_id, "succeeded", "failed")
    recorded = types(run_id)

    time.sleep(3)  # past the deadline the question had

    assert wakes.wake_due() is None
    assert types(run_id) == recorded and executions == [run_id, run_id]
    assert recorded.count("human.answered") == 1 and "error" not in recorded
    assert run.status == "succeeded", run.failure_reason
    assert_sound_trail(run)


def test_a_deadline_that_passed_while_nothing_swept_is_caught_up_at_start(
    executions: list[str],
) -> None:
    wakes.stop()  # nothing sweeps: as if the process that recorded the wait went down
    _, run_id = started(timeout_s=1)
    wait_for_status(run_id, "waiting")
    time.sleep(1.5)
    assert Run.objects.get(id=run_id).status == "waiting"

    wakes.start()  # a process starts

    run = wait_for_status(run_id, "succeeded", "failed", within_s=20)
    assert run.status == "succeeded", run.failure_reason
    assert "error" in types(run_id) and executions == [run_id, run_id]
