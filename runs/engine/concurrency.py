"""Running branches side by side, and racing work against a deadline."""

from __future__ import annotations

import asyncio
import contextlib
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
    """``await work``, or raise DeadlineExceeded after ``seconds`` on the injected clock."""
    task = asyncio.ensure_future(work)
    timer = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise DeadlineExceeded(seconds)
    finally:
        for pending in (task, timer):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending
