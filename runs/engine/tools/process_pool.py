"""Where CPU-heavy tools run: a pool of worker processes whose timeout really stops them.

A thread cannot be stopped, and a tool that holds the interpreter (a huge power, a regular
expression that backtracks, a query that builds a gigabyte string) freezes every run on the
worker's event loop. A tool marked ``in_pool`` therefore runs in one of a few child processes
(pebble's ``ProcessPool``): when its time is up, or the run that called it is cancelled, that
child is killed and the pool starts another, and the other children's work goes on.

The pool is one per process, started on first use in a thread (starting processes must not
hold up the event loop), from a fork server that has imported the tools once: no child is
forked from a worker full of threads, and a replacement is ready in milliseconds. Each child
has an address-space limit, so a tool that asks for too much memory fails alone.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

T = TypeVar("T")

WORKERS = max(2, min(4, os.cpu_count() or 2))
MEMORY_LIMIT_BYTES = 2 * 1024**3  # address space of each child: numpy and matplotlib fit
# Imported by the fork server once, so every child (and every replacement) starts warm.
PRELOAD = ["runs.engine.tools.builtin", "matplotlib.figure", "matplotlib.backends.backend_agg"]


class ChildDied(Exception):
    """The child running a task ended abruptly: killed for memory, or crashed."""


_lock = threading.Lock()
_pool: ProcessPool | None = None


def _limit_child(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # Nothing in a child needs the worker's secrets: drop them from what its code can read.
    os.environ.clear()
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"


def _started() -> ProcessPool:
    global _pool
    with _lock:
        if _pool is None or not _pool.active:
            if _pool is not None:
                _stop(_pool)  # broken (its children died at start): begin again
            first = _pool is None
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            _pool = ProcessPool(
                max_workers=WORKERS,
                initializer=_limit_child,
                initargs=(MEMORY_LIMIT_BYTES,),
                context=context,
            )
            _pool.active  # noqa: B018 (starts the children here, not on the event loop)
            if first:
                _at_exit(_stop_at_exit)
        return _pool


def _at_exit(function: Callable[[], None]) -> None:
    """Runs ``function`` when the interpreter shuts down, before any ``atexit`` handler.

    multiprocessing's exit handler joins every child and would wait forever for an idle pool
    child; ``multiprocessing.get_logger()`` (Celery calls it) moves that handler to run first
    among atexit handlers. Threading's own exit hooks run before all of them, which is why
    ``concurrent.futures`` stops its process pools there too.
    """
    register = getattr(threading, "_register_atexit", None)
    if register is None:  # not CPython 3.9+: atexit, and hope no one reorders it
        atexit.register(function)
    else:
        register(function)


def _stop(pool: ProcessPool) -> None:
    pool.stop()
    pool.join()  # bounded: pebble kills a child that does not stop within 3 s


def _stop_at_exit() -> None:
    with _lock:
        if _pool is not None:
            _stop(_pool)


async def run_in_pool(function: Callable[..., T], *args: Any, timeout_s: float) -> T:
    """``function(*args)`` in a pool process, killed if it overruns ``timeout_s`` or if the
    caller is cancelled. ``function`` and its arguments must pickle (module-level, plain data).

    Raises ``TimeoutError`` on overrun, ``ChildDied`` when the child ended abruptly.
    """
    pool = _pool if _pool is not None and _pool.active else await asyncio.to_thread(_started)
    future = pool.schedule(function, args=args, timeout=timeout_s)
    try:
        # Cancelling the asyncio wrapper cancels pebble's future, which kills the child.
        return await asyncio.wrap_future(future)
    except ProcessExpired as exc:
        raise ChildDied(f"its process ended abruptly (exit code {exc.exitcode})") from exc
