"""What moves experiments: one chain of ``advance`` calls per running experiment (a Celery
task re-sent every ``EXPERIMENT_POLL_S``, or a loop on the embedded default's run loop), and
a periodic sweep that starts a new chain for an experiment whose chain stopped (its worker
died) — the new chain's token makes the old one, should it come back, stop."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from runs.execution import run_loop
from runs.models import Run
from runs.shell.loop import Batcher, in_db_thread, in_waiting_db_thread, one_per_loop

from . import actions
from .models import Experiment, experiment_of

log = logging.getLogger(__name__)


def poll_s() -> float:
    return float(getattr(settings, "EXPERIMENT_POLL_S", 1.0))


def step(experiment_id: int, token: str) -> tuple[bool, actions.Held | None]:
    """One step under the lock (``actions.take_step``), if ``token`` is still the
    experiment's chain: whether to go on, and the items it held for their judges, whom the
    caller asks beside the chain (the task ``judge``, or ``judge_beside`` on the embedded
    default's run loop) so the next poll never waits on them."""
    moved = Experiment.objects.filter(
        pk=experiment_id, chain=token, status=Experiment.Status.RUNNING
    ).update(advanced_at=timezone.now())
    return actions.take_step(experiment_id) if moved else (False, None)


# Acknowledged after it ran: a worker killed meanwhile leaves it to be delivered again (a
# step is idempotent under the experiment's lock).
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def advance(experiment_id: int, token: str) -> None:
    going, held = step(int(experiment_id), token)
    if held is not None:  # its judges in a task of their own: the next poll never waits
        judge.delay(held.experiment.pk, held.until.isoformat())
    if going:
        advance.apply_async((experiment_id, token), countdown=poll_s())


# Acknowledged after the judges answered: a worker killed meanwhile leaves the task to be
# delivered again, which asks them again while the lease lasts and does nothing after it
# (a later step has taken the items over, counting the attempt).
@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def judge(experiment_id: int, until: str) -> None:
    """Ask the judges of the items a chain's step held under the lease ``until``."""
    held = actions.held_under(int(experiment_id), datetime.fromisoformat(until))
    if held is not None:
        actions.score_held(held)


async def _advance_forever(experiment_id: int, token: str, delay_s: float) -> None:
    await asyncio.sleep(delay_s)
    while True:
        try:
            going, held = await in_db_thread(step, experiment_id, token)
            if held is not None:
                judge_beside(held)
            if not going:
                return
        except Exception:
            log.warning("Could not advance experiment %s", experiment_id, exc_info=True)
        await asyncio.sleep(poll_s())


#: The judging of every step of this process's run loop (``judge_beside``), kept referenced
#: until it ends (the loop holds only weak references to its tasks).
_judging: set[asyncio.Task[None]] = set()


def judge_beside(held: actions.Held) -> asyncio.Task[None]:
    """Ask the judges of the items a step held (``actions.score_held``) on a waiting thread,
    beside whatever the run loop does next: the chain's next poll and the nudges' next
    round never wait on a judge. Call it on the run loop."""
    task = asyncio.ensure_future(_score(held))
    _judging.add(task)
    task.add_done_callback(_judging.discard)
    return task


async def _score(held: actions.Held) -> None:
    try:
        await in_waiting_db_thread(actions.score_held, held)
    except Exception:  # the write failed: the items stay held until their lease passes
        log.warning("Could not score experiment %s", held.experiment.pk, exc_info=True)


def advance_soon(experiment_id: int, delay_s: float = 0) -> None:
    """Start a new chain for the experiment (any other one stops at its next step)."""
    token = uuid.uuid4().hex
    Experiment.objects.filter(pk=experiment_id).update(chain=token, advanced_at=timezone.now())
    if settings.RUN_EXECUTOR == "celery":
        advance.apply_async((experiment_id, token), countdown=delay_s)
    else:
        run_loop.submit(_advance_forever(experiment_id, token, delay_s))


def runs_ended(runs: Sequence[Run]) -> None:
    """Runs of experiments ended: advance each experiment now (``runs.shell.finishes``), so
    its next items start without waiting for the chain's next poll. The step is taken in
    this process, on its run loop's database threads (``Nudges``); the chain goes on as
    before, as the fallback."""
    experiments = {
        experiment
        for run in runs
        if (experiment := experiment_of(run.started_by)) is not None
        and run.status not in Run.ACTIVE_STATUSES
    }
    if experiments:
        run_loop.submit(_nudge(sorted(experiments)))


async def _nudge(experiment_ids: list[int]) -> None:
    nudges = one_per_loop(Nudges)
    for experiment_id in experiment_ids:
        nudges.submit(experiment_id)


class Nudges:
    """The experiments to step at once, for one run loop: what is asked while a round of
    steps runs is the next round, each experiment stepped once however many of its runs
    ended meanwhile. Every round of run ends used to be a Celery message and a step of its
    own, and at 50 items in flight those steps queued on the experiment's row lock. The
    judges of the items a step held (``actions.score_held``) are asked by a task of their
    own (``judge_beside``), so the next round never waits on a judge."""

    def __init__(self) -> None:
        self._rounds: Batcher[int, None] = Batcher(self._step, name="experiment-nudges")

    @property
    def running(self) -> bool:
        return self._rounds.running

    def submit(self, experiment_id: int) -> None:
        self._rounds.submit(experiment_id)

    async def _step(self, experiment_ids: list[int]) -> list[None]:
        for experiment_id in dict.fromkeys(experiment_ids):
            try:
                # The step waits on nothing but the database: a database thread; the judges it
                # leaves wait on model calls, on the waiting threads, and never hold it back.
                _, held = await in_db_thread(actions.take_step, experiment_id)
            except Exception:
                log.warning("Could not advance experiment %s", experiment_id, exc_info=True)
                continue
            if held is not None:  # its judges, beside the next rounds rather than before them
                judge_beside(held)
        return [None] * len(experiment_ids)


@shared_task(ignore_result=True)
def sweep() -> None:
    """Take up every running experiment whose chain has not moved it for a while."""
    stale = timezone.now() - timedelta(seconds=max(10 * poll_s(), 10.0))
    for experiment_id in Experiment.objects.filter(
        status=Experiment.Status.RUNNING, advanced_at__lt=stale
    ).values_list("id", flat=True):
        log.info("Experiment %s had stopped moving: taking it up again", experiment_id)
        advance_soon(experiment_id)


async def _sweep_forever() -> None:
    # At once when the process starts: experiments left running by the last one move again.
    while True:
        try:
            await in_db_thread(sweep)
        except Exception:
            log.warning("Could not sweep the experiments", exc_info=True)
        await asyncio.sleep(float(getattr(settings, "EXPERIMENTS_SWEEP_S", 30.0)))


def start_embedded() -> None:
    """Sweep experiments from this process (the embedded default's web process: no beat)."""
    run_loop.submit(_sweep_forever())
