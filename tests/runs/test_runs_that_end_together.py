"""Runs that end together on an executor are recorded together, each with how it ended; a run
another executor has taken over in the meantime is left as that executor has it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from runs.engine.interfaces import RunOutcome
from runs.execution import finish
from runs.models import Run
from tests.factories import make_run, make_user

pytestmark = pytest.mark.django_db


def running(owner, executor: str) -> Run:
    now = timezone.now()
    return make_run(owner, status="running", claimed_by=executor, heartbeat_at=now, started_at=now)


def test_each_run_gets_how_it_ended_and_a_taken_over_one_is_left_alone() -> None:
    alice = make_user()
    done, broken, asking, lost = (running(alice, "worker-1") for _ in range(4))
    # Another executor took ``lost`` over after this one's heartbeat went stale.
    Run.objects.filter(id=lost.id).update(claimed_by="worker-2")
    output = {"summary": "All reconciled", "total": 1234.5, "when": "2026-11-30"}
    question = RunOutcome(
        status="waiting", reason="Approve?", waiting_for="run/approver/human", wake_after_s=3600.0
    )

    summaries = finish(
        [
            (done, "worker-1", RunOutcome(status="succeeded", output=output), 20),
            (broken, "worker-1", RunOutcome(status="failed", reason="The model refused."), 7),
            (asking, "worker-1", question, 9),
            (lost, "worker-1", RunOutcome(status="succeeded", output="late"), 5),
        ]
    )

    assert set(summaries) == {str(done.id), str(broken.id), str(asking.id)}
    done, broken, asking, lost = (Run.objects.get(id=r.id) for r in (done, broken, asking, lost))
    assert (done.status, done.output, done.failure_reason) == ("succeeded", output, "")
    assert (broken.status, broken.output, broken.failure_reason) == (
        "failed", None, "The model refused.",
    )  # fmt: skip
    assert done.finished_at and broken.finished_at and asking.finished_at is None
    assert (asking.status, asking.waiting_for) == ("waiting", "run/approver/human")
    assert timedelta(minutes=59) < asking.wake_at - timezone.now() <= timedelta(hours=1)
    for ended in (done, broken, asking):
        assert (ended.claimed_by, ended.heartbeat_at) == ("", None)
    assert (lost.status, lost.claimed_by, lost.output) == ("running", "worker-2", None)
    assert summaries[str(done.id)]["run"]["last_seq"] == 20


def test_the_end_is_stored_to_the_microsecond() -> None:
    run = running(make_user(), "worker-1")

    finish([(run, "worker-1", RunOutcome(status="succeeded", output=1), 3)])

    assert Run.objects.get(id=run.id).finished_at == run.finished_at
