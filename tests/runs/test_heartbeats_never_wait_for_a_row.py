"""A worker's heartbeat for its runs never waits for a run's row that another transaction
holds (a sink adding to the run's totals): it skips that run for one beat. Waiting, with
rows locked in whatever order the update met them, deadlocked against the sinks' group
commits, and each deadlock stalled those runs for PostgreSQL's deadlock_timeout (1 s)."""

import threading
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.utils import timezone

from runs.models import Run
from runs.shell.heartbeat import keep_alive
from tests.factories import make_run, make_user

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def beat_both(*runs: Run) -> None:
    try:
        keep_alive({str(run.id): "worker-1" for run in runs})
    finally:
        connections.close_all()


def test_it_beats_the_free_runs_and_skips_the_one_whose_row_is_held() -> None:
    alice = make_user()
    long_ago = timezone.now() - timedelta(seconds=20)
    held, free = (
        make_run(alice, status="running", claimed_by="worker-1", heartbeat_at=long_ago)
        for _ in range(2)
    )
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        # Another transaction updates the run's row and keeps it open, as a sink's does.
        try:
            with transaction.atomic():
                Run.objects.filter(id=held.id).update(input_tokens=5)
                locked.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        # The beat returns while the row is still held: it did not wait for it.
        beat = threading.Thread(target=beat_both, args=(held, free))
        beat.start()
        beat.join(timeout=5)
        assert not beat.is_alive(), "the heartbeat waited for a row another transaction holds"
    finally:
        release.set()
        holder.join(timeout=10)

    held.refresh_from_db()
    free.refresh_from_db()
    assert free.heartbeat_at > long_ago + timedelta(seconds=10)
    assert held.heartbeat_at == long_ago  # skipped this beat; the next one catches up
    keep_alive({str(held.id): "worker-1"})
    held.refresh_from_db()
    assert held.heartbeat_at > long_ago + timedelta(seconds=10)
