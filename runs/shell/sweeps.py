"""The loop that sweeps for runs nobody will move on by itself (``runs.wakes`` says which and
moves them): one ``Waker`` per run loop, at random intervals between half and all of
``RUN_WAKE_SWEEP_S`` (so processes started together do not sweep together), at once when it
starts, and by the due time of the next run it knows of (``expect``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime

from django.utils import timezone

from .config import sweep_s
from .loop import in_db_thread, run_loop

log = logging.getLogger(__name__)

Sweep = Callable[[], datetime | None]


class Waker:
    """Calls ``sweep`` (blocking: on a database thread) on one event loop: at once, then every
    ``sweep_s()`` less a random part of up to half of it, and sooner when ``sweep`` or a run
    says something is due sooner."""

    def __init__(self, sweep: Sweep) -> None:
        self._sweep = sweep
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
                self.expect(await in_db_thread(self._sweep))
            except Exception:
                log.warning("Could not sweep for orphaned and due runs", exc_info=True)


_wakers: dict[asyncio.AbstractEventLoop, Waker] = {}


def start(sweep: Sweep) -> None:
    """Sweep with ``sweep`` from this process, on its run loop, unless ``RUN_WAKE_SWEEP_S``
    is 0."""
    if sweep_s() > 0:
        run_loop.submit(_start(sweep)).result()


def stop() -> None:
    run_loop.submit(_stop()).result()


async def _start(sweep: Sweep) -> None:
    loop = asyncio.get_running_loop()
    if loop not in _wakers or not _wakers[loop].running:
        _wakers[loop] = Waker(sweep)


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
