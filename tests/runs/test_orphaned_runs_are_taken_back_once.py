"""A run whose executor stopped beating its heart for RUN_STALE_AFTER_S is queued again and
dispatched once, by one of any number of sweeps; a run whose executor still beats is left
alone, and an executor that was only slow learns at its next beat that the run is gone."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs import wakes
from runs.models import Run
from runs.shell.heartbeat import keep_alive
from tests.factories import make_run, make_user
from tests.runs.helpers import race

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "web-1:4242:0badc0de"


@pytest.fixture(autouse=True)
def stale_after(settings: Any) -> None:
    settings.RUN_STALE_AFTER_S = 30


def running_run(owner: Any, silent_for_s: float, **fields: Any) -> Run:
    """A run held by DEAD, whose last heartbeat was ``silent_for_s`` ago."""
    beat = timezone.now() - timedelta(seconds=silent_for_s)
    fields = {"status": Run.Status.RUNNING, "claimed_by": DEAD, "heartbeat_at": beat, **fields}
    return make_run(owner, started_at=beat, **fields)


def test_it_queues_a_run_whose_heartbeat_went_stale_and_dispatches_it_once(
    dispatched: list[str],
) -> None:
    run = running_run(make_user(), silent_for_s=31)

    wakes.sweep()
    wakes.sweep()

    assert dispatched == [str(run.id)]
    run.refresh_from_db()
    assert (run.status, run.claimed_by, run.heartbeat_at) == ("queued", "", None)
    assert run.started_at is not None  # it keeps when it first started


def test_it_leaves_runs_whose_executor_still_beats_and_runs_nobody_holds(
    dispatched: list[str],
) -> None:
    alice = make_user()
    beating = running_run(alice, silent_for_s=5)
    running_run(alice, silent_for_s=300, status=Run.Status.SUCCEEDED)
    running_run(alice, silent_for_s=300, status=Run.Status.CANCELLED)

    assert wakes.sweep() is None

    assert dispatched == []
    beating.refresh_from_db()
    assert (beating.status, beating.claimed_by) == ("running", DEAD)


def test_a_sweep_read_before_the_executor_beat_again_changes_nothing(
    dispatched: list[str],
) -> None:
    run = running_run(make_user(), silent_for_s=31)
    seen = (run.id, run.claimed_by, run.heartbeat_at, timezone.now())

    # Its executor was only slow: it beats after the sweep read the row.
    Run.objects.filter(id=run.id).update(heartbeat_at=timezone.now())

    assert not wakes.requeue(*seen)
    run.refresh_from_db()
    assert (run.status, run.claimed_by) == ("running", DEAD)


def test_an_executor_that_was_only_slow_sees_the_run_gone_at_its_next_beat(
    dispatched: list[str],
) -> None:
    run = running_run(make_user(), silent_for_s=31)
    wakes.sweep()

    lost, cancelled = keep_alive({str(run.id): DEAD})

    assert lost == {str(run.id)} and cancelled == set()
    run.refresh_from_db()
    assert run.heartbeat_at is None  # its beat did not make the run its own again


def test_a_taken_back_run_nobody_claimed_is_dispatched_again_after_the_stale_time(
    dispatched: list[str],
) -> None:
    run = running_run(make_user(), silent_for_s=31)
    wakes.sweep()  # the message it sent is lost
    run.refresh_from_db()
    assert run.wake_at is not None
    assert 29 < (run.wake_at - timezone.now()).total_seconds() <= 30

    assert wakes.sweep() == run.wake_at  # not before the stale time
    Run.objects.filter(id=run.id).update(wake_at=timezone.now() - timedelta(seconds=1))
    wakes.sweep()

    assert dispatched == [str(run.id), str(run.id)]


def test_orphans_beyond_one_batch_are_all_taken_back(
    dispatched: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wakes, "SWEEP_BATCH", 3)
    alice = make_user()
    runs = [running_run(alice, silent_for_s=40 + n) for n in range(5)]

    assert wakes.sweep() is not None  # a full batch: sweep again at once
    wakes.sweep()

    assert sorted(dispatched) == sorted(str(r.id) for r in runs)


@pytest.mark.postgres
def test_sweeps_racing_take_each_orphan_back_once(dispatched: list[str]) -> None:
    alice = make_user()
    runs = [running_run(alice, silent_for_s=31) for _ in range(40)]

    race(wakes.sweep)

    assert sorted(dispatched) == sorted(str(r.id) for r in runs)
