"""Waking runs that no executor will move on by itself: those whose question's deadline has
passed, and those whose executor died.

A human node with ``timeout_s`` makes the engine end its execution ``waiting`` with
``wake_after_s``: run it again then, and if nobody has answered, the question fails as
unanswered. When that is due is kept in the run's row (``Run.wake_at``), so no worker holds
the run and no broker message has to outlive the wait: a Celery countdown on the Redis broker
sits unacknowledged in one worker's memory, and once it is older than the visibility timeout
the broker hands it to another worker as well.

A run whose executor died (a worker killed, a machine gone) stays ``running`` with a heartbeat
that no longer moves. Once it is older than ``RUN_STALE_AFTER_S`` the run is an orphan: it is
queued again and dispatched, and whichever executor claims it resumes it from its journal.
Waiting for a worker to start, or for the broker to redeliver its message (an hour), left it
running for good when neither happened.

Every process that executes runs sweeps for both on its run loop (``Waker``): at random
intervals between half and all of ``RUN_WAKE_SWEEP_S`` (so processes started together do not
sweep together), at once when it starts, and at the due time of the next run it knows of.
Each move is a conditional update, so processes that sweep together move a run once:

- waiting -> queued, only while the run still waits on the same question with the same due
  time (an answer or a cancel clears ``wake_at`` under the run's row lock, and then nothing
  is woken); then it is dispatched like any queued run;
- running -> queued, only while the same executor holds it with the same stale heartbeat
  (its executor, if only slow, sees the claim gone at its next beat and stops);
- ``wake_at`` of the queued run becomes when to dispatch it again if no executor has claimed
  it by then (the message was lost, or the process died before sending it). The claim in
  ``runs.execution`` takes a run once, however many messages ask for it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.utils import timezone

from . import execution
from .actions import queue_again
from .models import Run
from .shell import sweeps
from .shell.config import SWEEP_BATCH, stale_after_s
from .shell.finishes import wake_at  # noqa: F401 - when a run that went waiting is due

log = logging.getLogger(__name__)

WAKEABLE = (Run.Status.WAITING, Run.Status.QUEUED)


def sweep() -> datetime | None:
    """Queue and dispatch the orphaned runs and the due ones (blocking: on a database thread).
    Returns when to sweep again at the latest, if sooner than the next periodic sweep."""
    again = [at for at in (recover_orphans(), wake_due()) if at is not None]
    return min(again, default=None)


def recover_orphans() -> datetime | None:
    """Queue and dispatch every running run whose heartbeat is older than
    ``RUN_STALE_AFTER_S``: its executor died. Returns now if there may be more."""
    now = timezone.now()
    stale = now - timedelta(seconds=stale_after_s())
    # Few runs are running at any time: the status index finds them.
    orphans = list(
        Run.objects.filter(status=Run.Status.RUNNING, heartbeat_at__lt=stale)
        .order_by("heartbeat_at")
        .values_list("id", "claimed_by", "heartbeat_at")[:SWEEP_BATCH]
    )
    for run_id, executor, beat in orphans:
        if requeue(run_id, executor, beat, now):
            log.warning(
                "Run %s lost its executor %s (no heartbeat since %s); it resumes on another.",
                run_id, executor, beat.isoformat(),
            )  # fmt: skip
            execution.dispatch(str(run_id))
    return now if len(orphans) == SWEEP_BATCH else None


def requeue(run_id: uuid.UUID, executor: str, beat: datetime, now: datetime) -> bool:
    """Queue the orphaned run if it is still as the sweep read it: of two sweeps only one
    moves it, and none once its executor beat again or another executor took it."""
    seen = {"status": Run.Status.RUNNING, "claimed_by": executor, "heartbeat_at": beat}
    return queue_again(run_id, seen, now + timedelta(seconds=stale_after_s()))


def wake_due() -> datetime | None:
    """Wake and dispatch every run that is due (blocking: on a database thread). Returns when
    the next known run is due, if any."""
    now = timezone.now()
    due = list(
        Run.objects.filter(wake_at__isnull=False, status__in=WAKEABLE)
        .order_by("wake_at")
        .values_list("id", "status", "waiting_for", "wake_at")[:SWEEP_BATCH]
    )
    for run_id, status, waiting_for, at in due:
        if at > now:
            return at
        if wake(run_id, status, waiting_for, at, now):
            execution.dispatch(str(run_id))
    return now if len(due) == SWEEP_BATCH else None


def wake(run_id: uuid.UUID, status: str, waiting_for: str, at: datetime, now: datetime) -> bool:
    """Queue the run if it is still as the sweep read it: of two sweeps, or a sweep and a
    person answering, only one moves it."""
    seen = {"status": status, "waiting_for": waiting_for, "wake_at": at}
    return queue_again(run_id, seen, now + timedelta(seconds=stale_after_s()))


def start() -> None:
    """Sweep for orphaned and due runs from this process, on its run loop, unless
    ``RUN_WAKE_SWEEP_S`` is 0. For processes that execute runs and live on: a Celery worker,
    and the web process of the embedded default."""
    sweeps.start(sweep)


def stop() -> None:
    sweeps.stop()
