"""A run whose question's deadline has passed is woken once: only while it still waits on that
question, by one of any number of sweeps, and dispatched again if its dispatch was lost."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs import wakes
from runs.engine.interfaces import RunOutcome
from runs.models import Run
from tests.factories import make_run, make_user
from tests.runs.helpers import race

pytestmark = pytest.mark.django_db(transaction=True)

QUESTION = "run/lead/t1/c0/expert/human"


def waiting_run(owner: Any, due_in_s: float, **fields: Any) -> Run:
    """A run waiting on QUESTION, due in ``due_in_s`` (past when negative)."""
    fields = {"status": Run.Status.WAITING, "waiting_for": QUESTION, **fields}
    fields.setdefault("wake_at", timezone.now() + timedelta(seconds=due_in_s))
    return make_run(owner, **fields)


def test_it_wakes_a_run_whose_deadline_passed_and_dispatches_it_once(
    dispatched: list[str],
) -> None:
    run = waiting_run(make_user(), due_in_s=-1)

    wakes.wake_due()
    wakes.wake_due()

    assert dispatched == [str(run.id)]
    run.refresh_from_db()
    assert (run.status, run.waiting_for) == ("queued", "")


def test_it_leaves_a_run_that_is_not_due_yet_and_says_when_it_is(
    dispatched: list[str],
) -> None:
    run = waiting_run(make_user(), due_in_s=60)

    assert wakes.wake_due() == run.wake_at

    assert dispatched == []
    run.refresh_from_db()
    assert run.status == "waiting"


def test_it_wakes_nothing_once_the_question_was_answered_or_the_run_cancelled(
    dispatched: list[str],
) -> None:
    alice = make_user()
    # What answering and cancelling leave: the due time cleared.
    waiting_run(alice, due_in_s=-1, status=Run.Status.QUEUED, waiting_for="", wake_at=None)
    waiting_run(alice, due_in_s=-1, status=Run.Status.CANCELLED, waiting_for="", wake_at=None)

    assert wakes.wake_due() is None
    assert dispatched == []


def test_a_wake_read_before_the_run_moved_on_changes_nothing(dispatched: list[str]) -> None:
    run = waiting_run(make_user(), due_in_s=-1)
    seen = (run.id, run.status, run.waiting_for, run.wake_at, timezone.now())

    # Answered, resumed and waiting on its next question, all after the sweep read it.
    Run.objects.filter(id=run.id).update(
        waiting_for="run/lead/t2/c0/expert/human", wake_at=timezone.now() + timedelta(hours=1)
    )

    assert not wakes.wake(*seen)
    run.refresh_from_db()
    assert run.status == "waiting"


def test_a_woken_run_nobody_claimed_is_dispatched_again_after_the_stale_time(
    dispatched: list[str], settings: Any
) -> None:
    settings.RUN_STALE_AFTER_S = 30
    run = waiting_run(make_user(), due_in_s=-1)
    wakes.wake_due()  # the message it sent is lost
    run.refresh_from_db()
    assert run.wake_at is not None
    assert 29 < (run.wake_at - timezone.now()).total_seconds() <= 30

    assert wakes.wake_due() == run.wake_at  # not before the stale time
    Run.objects.filter(id=run.id).update(wake_at=timezone.now() - timedelta(seconds=1))
    wakes.wake_due()

    assert dispatched == [str(run.id), str(run.id)]
    run.refresh_from_db()
    assert run.status == "queued"


def test_a_run_that_waits_for_a_person_only_is_never_woken() -> None:
    assert wakes.wake_at(RunOutcome(status="waiting", waiting_for=QUESTION)) is None
    assert wakes.wake_at(RunOutcome(status="succeeded", wake_after_s=5)) is None
    due = wakes.wake_at(RunOutcome(status="waiting", waiting_for=QUESTION, wake_after_s=90))
    assert due is not None and 89 < (due - timezone.now()).total_seconds() <= 90


def test_runs_due_beyond_one_batch_are_all_woken(
    dispatched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wakes, "SWEEP_BATCH", 3)
    alice = make_user()
    runs = [waiting_run(alice, due_in_s=-10 + n) for n in range(5)]

    assert wakes.wake_due() is not None  # a full batch: sweep again at once
    wakes.wake_due()

    assert sorted(dispatched) == sorted(str(r.id) for r in runs)


@pytest.mark.postgres
def test_sweeps_racing_wake_each_run_once(dispatched: list[str]) -> None:
    alice = make_user()
    runs = [waiting_run(alice, due_in_s=-1) for _ in range(40)]

    race(wakes.wake_due)

    assert sorted(dispatched) == sorted(str(r.id) for r in runs)
