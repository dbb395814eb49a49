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
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from django.db import InterfaceError, OperationalError, connections

from ..engine.models import close_providers
from .config import DB_ATTEMPTS, DB_THREADS

log = logging.getLogger(__name__)
T = TypeVar("T")
V = TypeVar("V")
R = TypeVar("R")

_db_threads = ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="run-db")


async def in_db_thread(function: Any, *args: Any) -> Any:
    """Run blocking ORM code on the sink's database threads.

    Each thread keeps its connection (connecting per call would cost more than the query);
    a connection that fails is dropped and the call tried again on a new one.
    """

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

    return await asyncio.get_running_loop().run_in_executor(_db_threads, call)


def _name(function: Any) -> str:
    return str(getattr(function, "__qualname__", function))


def close_db_connections() -> None:
    """Close every database thread's connection (before dropping a test database)."""
    barrier = threading.Barrier(DB_THREADS)

    def close() -> None:
        connections.close_all()
        barrier.wait(timeout=10)  # holds this thread so every other one gets a task too

    for future in [_db_threads.submit(close) for _ in range(DB_THREADS)]:
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


class Rounds(Generic[V, R]):
    """Runs ``work`` on a database thread for what the runs on one event loop ask, in rounds.

    Hundreds of runs start and end on a worker within a second or two; a round trip to the
    database threads per run queued enough queries to hold up the runs in between. What is
    asked while a round is in flight goes into the next round, which ``work`` does in a few
    queries for all (the same group commit as the sink's writes, applied to starting and
    ending runs). A run asked for twice in one round gets its answer once, and None again;
    an answer that is an exception is raised to its asker.
    """

    def __init__(self) -> None:
        self._pending: dict[str, tuple[V, list[asyncio.Future[R | None]]]] = {}
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._round_loop(), name=type(self).__name__)

    @property
    def running(self) -> bool:
        return not self._task.done()

    def work(self, asked: dict[str, V]) -> dict[str, R | Exception]:
        raise NotImplementedError

    async def answer(self, asked: dict[str, V]) -> dict[str, R | Exception]:
        return await in_db_thread(self.work, asked)

    async def ask(self, run_id: str, value: V) -> R | None:
        done: asyncio.Future[R | None] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(run_id, (value, []))[1].append(done)
        self._wake.set()
        return await done

    async def _round_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            answers: dict[str, R | Exception] = {}
            failure: Exception | None = None
            try:
                answers = await self.answer({k: v for k, (v, _) in pending.items()})
            except Exception as error:
                failure = error
            for run_id, (_, waiting) in pending.items():
                answer = answers.get(run_id)
                for done in waiting:
                    if done.done():
                        continue  # its asker is gone
                    if failure is not None:
                        done.set_exception(failure)
                    elif isinstance(answer, Exception):
                        done.set_exception(answer)
                    else:
                        done.set_result(answer)
                        answer = None
