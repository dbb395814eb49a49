"""Runs that end together on an executor are recorded together, each with how it ended and
the events its sink had not written yet; a run another executor has taken over in the
meantime is left as that executor has it, and a run whose last events conflict with stored
ones is left alone without holding up the others."""

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError
from django.utils import timezone

from runs.audit import verify
from runs.chain import ChainHead, chain
from runs.engine.events import RUN_FINISHED, Event
from runs.engine.interfaces import RunOutcome
from runs.models import Run, RunEvent
from runs.shell.finishes import Ended, finish, finish_each
from runs.shell.sink import LostRun, Tail
from tests.factories import make_event, make_run, make_user

pytestmark = pytest.mark.django_db


def handed_over(
    run: Run, outcome: RunOutcome, last_seq: int = 0, events: Sequence[Event] = ()
) -> Ended:
    """``run`` as its executor ("worker-1") hands it over, ``events`` still unwritten."""
    head = ChainHead.of(run.id)
    rows = chain(run.id, head, events)
    return Ended(run, "worker-1", outcome, Tail(rows, [], {}), last_seq or head.seq, head.hash)


def finished(output: Any) -> Event:
    return make_event(RUN_FINISHED, key="run:finished", payload={"output": output})


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
            handed_over(done, RunOutcome(status="succeeded", output=output), 20),
            handed_over(broken, RunOutcome(status="failed", reason="The model refused."), 7),
            handed_over(asking, question, 9),
            handed_over(lost, RunOutcome(status="succeeded", output="late"), 5),
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

    finish([handed_over(run, RunOutcome(status="succeeded", output=1), 3)])

    assert Run.objects.get(id=run.id).finished_at == run.finished_at


def test_the_last_events_are_stored_with_the_end_and_a_taken_over_runs_are_not() -> None:
    alice = make_user()
    done, lost = running(alice, "worker-1"), running(alice, "worker-1")
    Run.objects.filter(id=lost.id).update(claimed_by="worker-2")
    # What its sink added up.
    done.input_tokens, done.output_tokens, done.cost_usd = 120, 30, Decimal("0.001234")

    summaries = finish(
        [
            handed_over(done, RunOutcome(status="succeeded", output=42), events=[finished(42)]),
            handed_over(lost, RunOutcome(status="succeeded", output=0), events=[finished(0)]),
        ]
    )

    stored = list(RunEvent.objects.filter(run=done))
    assert [(e.seq, e.type, e.payload) for e in stored] == [(1, "run.finished", {"output": 42})]
    assert verify(done)["ok"]
    done = Run.objects.get(id=done.id)
    assert (done.status, done.input_tokens, done.output_tokens, done.cost_usd) == (
        "succeeded", 120, 30, Decimal("0.001234"),
    )  # fmt: skip
    assert summaries[str(done.id)]["run"]["last_seq"] == 1
    assert not RunEvent.objects.filter(run=lost).exists()


def test_a_run_whose_last_events_conflict_is_left_alone_and_the_others_end() -> None:
    alice = make_user()
    ok, clash = running(alice, "worker-1"), running(alice, "worker-1")
    endings = [
        handed_over(ok, RunOutcome(status="succeeded", output=1), events=[finished(1)]),
        handed_over(clash, RunOutcome(status="succeeded", output=2), events=[finished(2)]),
    ]
    # Another executor wrote the clashing run's first event after this one chained its own.
    RunEvent.objects.create(run=clash, seq=1, ts=timezone.now(), type="message", key="other",
                            payload={}, hash="f" * 64)  # fmt: skip

    with pytest.raises(IntegrityError):
        finish(endings)
    assert not Run.objects.filter(status="succeeded").exists()  # all or nothing

    answers = finish_each({str(e.run.id): e for e in endings})

    assert isinstance(answers[str(clash.id)], LostRun)
    assert answers[str(ok.id)]["run"]["status"] == "succeeded"
    assert Run.objects.get(id=ok.id).status == "succeeded"
    clash = Run.objects.get(id=clash.id)
    assert (clash.status, clash.claimed_by) == ("running", "worker-1")
    assert list(RunEvent.objects.filter(run=clash).values_list("key", flat=True)) == ["other"]
