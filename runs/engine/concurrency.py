"""Running branches side by side, and racing work against a deadline."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any, TypeVar

from .errors import DeadlineExceeded, RunCancelled, RunFailed, Suspended
from .interfaces import Clock

T = TypeVar("T")


class _Deadline:
    """One ``within``'s allowance; ``extend`` adds time the work spent not working."""

    def __init__(self, seconds: float, started: float) -> None:
        self.seconds, self.started = seconds, started

    def left(self, clock: Clock) -> float:
        return self.started + self.seconds - clock.monotonic()

    async def expire(self, clock: Clock) -> None:
        slept = 0.0
        while slept < self.seconds:
            target = self.seconds
            await clock.sleep(target - slept)
            slept = target


# The deadlines the current task runs under, innermost last (tasks it starts inherit them).
_deadlines: contextvars.ContextVar[tuple[_Deadline, ...]] = contextvars.ContextVar(
    "deadlines", default=()
)


def extend_deadlines(seconds: float, *, but_the_runs: bool = False) -> None:
    """Time the current work waits for something that is not its own doing (a model
    credential's rate limit) does not count against its deadlines: each is pushed back.
    ``but_the_runs``: all but the outermost (the run's own, which still bounds the wait)."""
    for deadline in _deadlines.get()[1 if but_the_runs else 0 :]:
        deadline.seconds += seconds


def run_time_left(clock: Clock) -> float | None:
    """Seconds before the outermost deadline (the run's) passes; None outside any."""
    deadlines = _deadlines.get()
    return deadlines[0].left(clock) if deadlines else None


# When several branches stop at once, the one that matters most is reported.
_PRIORITY = (RunCancelled, DeadlineExceeded, RunFailed, Suspended)


async def gather_all(coros: Sequence[Coroutine[Any, Any, T]]) -> list[T]:
    """Run ``coros`` concurrently and return their results in order. If one raises, the others
    are cancelled and that exception (not an ExceptionGroup) propagates."""
    if len(coros) == 1:
        return [await coros[0]]
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(c) for c in coros]
    except BaseExceptionGroup as group_error:
        raise _most_important(group_error) from None
    return [t.result() for t in tasks]


def _most_important(group_error: BaseExceptionGroup) -> BaseException:
    errors = list(_leaves(group_error))
    for kind in _PRIORITY:
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


def _leaves(group_error: BaseExceptionGroup) -> list[BaseException]:
    leaves: list[BaseException] = []
    for error in group_error.exceptions:
        leaves.extend(_leaves(error) if isinstance(error, BaseExceptionGroup) else [error])
    return leaves


async def within(clock: Clock, seconds: float, work: Awaitable[T]) -> T:
    """``await work``, or raise DeadlineExceeded after ``seconds`` on the injected clock.

    Like ``asyncio.timeout``, but timed by the clock the run was given: a timer task cancels
    this task when it fires, and the cancellation is turned into DeadlineExceeded here.
    """
    current = asyncio.current_task()
    assert current is not None
    deadline = _Deadline(seconds, clock.monotonic())
    timer = asyncio.ensure_future(deadline.expire(clock))
    fired = False

    def expire(done: asyncio.Future[None]) -> None:
        nonlocal fired
        if not done.cancelled() and done.exception() is None:
            fired = True
            current.cancel()

    timer.add_done_callback(expire)
    outer = _deadlines.set((*_deadlines.get(), deadline))
    try:
        return await work
    except asyncio.CancelledError:
        if fired and current.uncancel() == 0:
            raise DeadlineExceeded(seconds) from None
        raise
    finally:
        _deadlines.reset(outer)
        timer.remove_done_callback(expire)
        timer.cancel()
