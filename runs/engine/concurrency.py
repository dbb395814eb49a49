"""Running branches side by side, and racing work against a deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any, TypeVar

from .errors import DeadlineExceeded, RunCancelled, RunFailed, Suspended
from .interfaces import Clock

T = TypeVar("T")

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
    timer = asyncio.ensure_future(clock.sleep(seconds))
    fired = False

    def expire(done: asyncio.Future[None]) -> None:
        nonlocal fired
        if not done.cancelled() and done.exception() is None:
            fired = True
            current.cancel()

    timer.add_done_callback(expire)
    try:
        return await work
    except asyncio.CancelledError:
        if fired and current.uncancel() == 0:
            raise DeadlineExceeded(seconds) from None
        raise
    finally:
        timer.remove_done_callback(expire)
        timer.cancel()
