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

import asyncio
import contextlib
import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import execution
from .engine.interfaces import RunOutcome
from .models import Run
from .sink import in_db_thread

log = logging.getLogger(__name__)

#: Runs woken by one query; more are woken by the sweep that follows at once.
SWEEP_BATCH = 100
WAKEABLE = (Run.Status.WAITING, Run.Status.QUEUED)


def sweep_s() -> float:
    return float(getattr(settings, "RUN_WAKE_SWEEP_S", 5.0))


def wake_at(outcome: RunOutcome) -> datetime | None:
    """When a run the engine left with ``outcome`` is due to be executed again; None when only
    a person can move it on."""
    if outcome.status != "waiting" or outcome.wake_after_s is None:
        return None
    return timezone.now() + timedelta(seconds=max(0.0, outcome.wake_after_s))


def sweep() -> datetime | None:
    """Queue and dispatch the orphaned runs and the due ones (blocking: on a database thread).
    Returns when to sweep again at the latest, if sooner than the next periodic sweep."""
    again = [at for at in (recover_orphans(), wake_due()) if at is not None]
    return min(again, default=None)


def recover_orphans() -> datetime | None:
    """Queue and dispatch every running run whose heartbeat is older than
    ``RUN_STALE_AFTER_S``: its executor died. Returns now if there may be more."""
    now = timezone.now()
    stale = now - timedelta(seconds=execution.stale_after_s())
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
    return queue_again(run_id, seen, now)


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
    return queue_again(run_id, {"status": status, "waiting_for": waiting_for, "wake_at": at}, now)


def queue_again(run_id: uuid.UUID, seen: dict[str, Any], now: datetime) -> bool:
    """Queue the run, held by nobody, if its row still holds what the sweep ``seen``: one
    conditional update. Its ``wake_at`` becomes when to dispatch it again if no executor
    has claimed it by then."""
    again_at = now + timedelta(seconds=execution.stale_after_s())
    queued = Run.objects.filter(id=run_id, **seen).update(
        status=Run.Status.QUEUED, waiting_for="", claimed_by="", heartbeat_at=None, wake_at=again_at
    )
    return bool(queued)


class Waker:
    """Sweeps for orphaned and due runs on one event loop: at once, then every ``sweep_s()``
    less a random part of up to half of it, and sooner when a run it knows of is due sooner."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._next = self._loop.time()  # at once: runs fell due or lost their executor meanwhile
        self._nudged = asyncio.Event()
        self._task = asyncio.create_task(self._sweeps(), name="run-waker")

    @property
    def running(self) -> bool:
        return not self._task.done()

    def expect(self, at: datetime | None) -> None:
        """Sweep by ``at`` at the latest."""
        if at is None:
            return
        when = self._loop.time() + max(0.0, (at - timezone.now()).total_seconds())
        if when < self._next:
            self._next = when
            self._nudged.set()

    def stop(self) -> None:
        self._task.cancel()

    async def _sweeps(self) -> None:
        while True:
            delay = self._next - self._loop.time()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._nudged.wait(), delay)
                self._nudged.clear()
                continue
            interval = sweep_s()
            if interval <= 0:
                return  # turned off
            self._next = self._loop.time() + interval * random.uniform(0.5, 1.0)
            try:
                self.expect(await in_db_thread(sweep))
            except Exception:
                log.warning("Could not sweep for orphaned and due runs", exc_info=True)


_wakers: dict[asyncio.AbstractEventLoop, Waker] = {}


def start() -> None:
    """Sweep for orphaned and due runs from this process, on its run loop, unless
    ``RUN_WAKE_SWEEP_S`` is 0.
    For processes that execute runs and live on: a Celery worker, and the web process of the
    embedded default."""
    if sweep_s() > 0:
        execution.run_loop.submit(_start()).result()


def stop() -> None:
    execution.run_loop.submit(_stop()).result()


async def _start() -> None:
    loop = asyncio.get_running_loop()
    if loop not in _wakers or not _wakers[loop].running:
        _wakers[loop] = Waker()


async def _stop() -> None:
    waker = _wakers.pop(asyncio.get_running_loop(), None)
    if waker is not None:
        waker.stop()


def expect(at: datetime | None) -> None:
    """On a run loop: a run of it went waiting until ``at``; its waker, if this process has
    one, sweeps by then."""
    waker = _wakers.get(asyncio.get_running_loop())
    if waker is not None and waker.running:
        waker.expect(at)
