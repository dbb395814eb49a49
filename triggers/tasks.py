"""What fires schedules: Celery beat's task on the production stack, and a loop on the web
process's run loop in the embedded default (no Redis, so no beat)."""

from __future__ import annotations

import asyncio
import logging

from celery import shared_task
from django.conf import settings

from runs.shell.loop import in_db_thread, run_loop

from . import actions

log = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def fire_schedule(schedule_id: int) -> None:
    """Sent by beat at each tick. Safe to receive twice (two beats, a redelivery): the tick
    is claimed once (``actions.do_fire``)."""
    actions.do_fire(int(schedule_id))


def sweep_s() -> float:
    return float(getattr(settings, "SCHEDULES_SWEEP_S", 10.0))


async def _fire_due_forever() -> None:
    # At once when the process starts: a tick missed while it was down fires now, once.
    while True:
        try:
            await in_db_thread(actions.fire_due)
        except Exception:
            log.warning("Could not fire the due schedules", exc_info=True)
        await asyncio.sleep(sweep_s())


_loops: list[asyncio.Task[None]] = []


async def _start() -> None:
    if not any(not task.done() for task in _loops):
        _loops.append(asyncio.create_task(_fire_due_forever(), name="schedule-firer"))


async def _stop() -> None:
    while _loops:
        _loops.pop().cancel()


def start_embedded() -> None:
    """Fire schedules from this process (the embedded default's web process), unless
    ``SCHEDULES_SWEEP_S`` is 0."""
    if sweep_s() > 0:
        run_loop.submit(_start()).result()


def stop_embedded() -> None:
    run_loop.submit(_stop()).result()
