"""The process's run loop and the database threads it hands blocking work to.

Every process that executes runs has one asyncio event loop (``run_loop``) on a daemon thread
carrying all its runs: they spend their time waiting on model APIs, so one loop holds hundreds
of them. Blocking ORM work goes to ``DB_THREADS`` threads (``in_db_thread``), each keeping its
connection. The shell's helpers that serve every run of a loop are made once per loop
(``one_per_loop``).
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from django.db import InterfaceError, OperationalError, connections

from ..engine.models import close_providers
from .config import DB_ATTEMPTS, DB_THREADS, WAITING_DB_THREADS

log = logging.getLogger(__name__)
T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R")

_db_threads = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="run-db")
_waiting_threads = ThreadPoolExecutor(max_workers=WAITING_DB_THREADS, thread_name_prefix="run-wait")


async def in_db_thread(function: Any, *args: Any) -> Any:
    """Run blocking ORM code on the sink's database threads.

    Each thread keeps its connection (connecting per call would cost more than the query);
    a connection that fails is dropped and the call tried again on a new one.
    """
    return await _in_thread(_db_threads, function, *args)


async def in_waiting_db_thread(function: Any, *args: Any) -> Any:
    """``in_db_thread`` for ORM work that also waits on something other than the database,
    and may need the database threads while it waits: an experiment's step waits on its
    judges' model calls, whose cassette reads and writes go to the database threads. On
    threads of their own, such steps can never hold every database thread the runs' events
    and claims need (with eight at once, nothing moved until their judges timed out)."""
    return await _in_thread(_waiting_threads, function, *args)


async def _in_thread(threads: ThreadPoolExecutor, function: Any, *args: Any) -> Any:
    def call() -> Any:
        for attempt in range(DB_ATTEMPTS):
            try:
                return function(*args)
            except (InterfaceError, OperationalError) as error:
                # A dropped connection (database restarted) or a lock that did not clear in
                # time: reconnect and try again. Every function given here is safe to repeat
                # (conditional updates, or a transaction that did not commit).
                log.warning("%s failed, trying again: %s", _name(function), error)
                connections.close_all()
                if attempt == DB_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * 2**attempt)

    return await asyncio.get_running_loop().run_in_executor(threads, call)


def _name(function: Any) -> str:
    return str(getattr(function, "__qualname__", function))


def close_db_connections() -> None:
    """Close every database thread's connection (before dropping a test database)."""
    for threads, count in ((_db_threads, DB_THREADS), (_waiting_threads, WAITING_DB_THREADS)):
        barrier = threading.Barrier(count)

        def close(barrier: threading.Barrier = barrier) -> None:
            connections.close_all()
            barrier.wait(timeout=10)  # holds this thread so every other one gets a task too

        for future in [threads.submit(close) for _ in range(count)]:
            future.result()


_per_loop: dict[tuple[type, asyncio.AbstractEventLoop], Any] = {}


def one_per_loop(kind: type[T]) -> T:
    """The instance of ``kind`` serving the running event loop, made on first use (and
    again if its task ended)."""
    key = (kind, asyncio.get_running_loop())
    instance = _per_loop.get(key)
    if instance is None or not instance.running:
        instance = _per_loop[key] = kind()
    return instance


class RunLoop:
    """One asyncio event loop on a daemon thread, shared by every run of this process."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def submit(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._loop.is_closed():
                self._loop = new_event_loop()
                threading.Thread(
                    target=self._loop.run_forever, name="run-loop", daemon=True
                ).start()
                atexit.register(self.close_connections)
            return self._loop

    def close_connections(self) -> None:
        """Close the model providers' connections on the loop, as the process exits."""
        loop = self._loop
        if loop is not None and loop.is_running():
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(close_providers(), loop).result(timeout=5)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (it is a dependency; a platform without a
    wheel falls back to asyncio's): the run loop carries hundreds of runs' sockets, and uvloop
    does that loop's own work in C."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - no wheel for this platform
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


run_loop = RunLoop()


class Batcher(Generic[T, R]):
    """The one batching primitive of the run shell: gathers what the runs of one event loop
    submit, and hands everything submitted while a round is in flight to ``process`` as the
    next round, in the order submitted (group commit).

    Hundreds of runs share a loop; a round trip each (to the database threads, to Redis)
    queued enough work to hold up the runs in between. ``process`` takes the items of a round
    and returns a result for each, in order; a result that is an exception is raised to its
    submitter, and an exception ``process`` raises goes to every submitter of the round. Up to
    ``in_flight`` rounds run at once (1: each round starts once the one before has ended,
    which keeps what it does in order). Used by the event writer, the publisher, claims and
    finishes.
    """

    def __init__(
        self,
        process: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]],
        *,
        name: str,
        in_flight: int = 1,
    ) -> None:
        self._process = process
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(in_flight)
        self._rounds: set[asyncio.Task[None]] = set()
        self._task = asyncio.create_task(self._round_loop(), name=name)

    @property
    def running(self) -> bool:
        return not self._task.done()

    def submit(self, item: T) -> asyncio.Future[R]:
        """Queue ``item`` for the next round; the future holds its result."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        self._wake.set()
        return done

    async def _round_loop(self) -> None:
        while True:
            await self._wake.wait()
            await self._slots.acquire()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                self._slots.release()
                continue
            round_ = asyncio.create_task(self._round(batch))
            self._rounds.add(round_)  # a reference, so the task is not collected mid-way
            round_.add_done_callback(self._rounds.discard)

    async def _round(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results: Sequence[R | BaseException] = await self._process([i for i, _ in batch])
        except Exception as error:
            results = [error] * len(batch)
        finally:
            self._slots.release()
        for (_, done), result in zip(batch, results, strict=True):
            if done.done():
                continue  # its submitter is gone
            if isinstance(result, BaseException):
                done.set_exception(result)
            else:
                done.set_result(result)


def by_run(
    work: Callable[[dict[str, V]], dict[str, Any]],
) -> Callable[[list[tuple[str, V]]], Awaitable[list[Any]]]:
    """A ``Batcher`` process for ``work`` that takes {run id: value} and answers by run id, on
    a database thread (a run missing from its answer gets None). A run asked for twice in one
    round gets its answer once, and None again."""

    async def process(items: list[tuple[str, V]]) -> list[Any]:
        asked: dict[str, V] = {}
        for run_id, value in items:
            asked.setdefault(run_id, value)
        answers = await in_db_thread(work, asked)
        results, seen = [], set()
        for run_id, _ in items:
            results.append(None if run_id in seen else answers.get(run_id))
            seen.add(run_id)
        return results

    return process
