"""Executing a run: claim it, run the engine on its journal, record how it ended.

The same code runs in a Celery worker and on a thread of the web process. Every process has
one event loop (``run_loop``) on a daemon thread that carries all the runs it executes: runs
spend their time waiting on model APIs, so one loop holds hundreds of them, and blocking ORM
work goes to the sink's database threads.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from functools import partial
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from teams.spec import parse

from .broadcast import publish_soon
from .engine import EngineOptions, run_team
from .engine.events import RUN_FAILED, Event
from .engine.interfaces import CancelToken, Journal, RunOutcome, SystemClock
from .engine.tools.mcp import McpUnavailable, mcp_registry
from .models import Run
from .shell import sweeps
from .shell.claims import Claimed, Claims
from .shell.config import DISPATCH_BATCH
from .shell.finishes import Ended, Finishes
from .shell.heartbeat import RunWatcher, Watched
from .shell.loop import one_per_loop, run_loop
from .shell.sink import LostRun, RunSink, Tail
from .wiring import RunArtifacts

log = logging.getLogger(__name__)


async def execute(run_id: str) -> str | None:
    """Execute the run if it can be claimed; returns its status afterwards, None if not ours."""
    claimed = await one_per_loop(Claims).submit((run_id, None))
    if claimed is None:
        return None
    run, executor = claimed.run, claimed.executor
    # Queued, not waited for: the Publisher sends in order, so watchers get this summary
    # before the run's events, and the run need not wait for a round trip to Redis.
    await publish_soon(run.group_name, [claimed.summary])
    sink = RunSink(run, claimed.head, (e.key for e in claimed.events))
    sink.resumed_from(claimed.events)
    cancel = CancelToken()
    engine = asyncio.create_task(run_engine(claimed, sink, cancel))
    watcher = one_per_loop(RunWatcher)
    watcher.runs[run_id] = Watched(executor, cancel, engine)
    try:
        outcome = await engine
        tail = await sink.seal()
    except (LostRun, asyncio.CancelledError):
        log.warning("Run %s was taken over by another executor; stopped here.", run_id)
        return None
    except Exception as error:
        log.exception("Run %s failed in the shell", run_id)
        outcome, tail = await record_crash(sink, error)
    finally:
        watcher.runs.pop(run_id, None)
    try:
        summary = await one_per_loop(Finishes).submit(
            (run_id, Ended(run, executor, outcome, tail, sink.head.seq, sink.head.hash))
        )
    except LostRun:
        log.warning("Run %s was taken over by another executor; stopped here.", run_id)
        return None
    if summary is None:
        return None
    sweeps.expect(run.wake_at)
    # Published from the run loop: a publish from a database thread would need an event
    # loop, and a Redis connection, of its own. The run's last events go first.
    await publish_soon(run.group_name, [*tail.messages, summary])
    return run.status


async def record_crash(sink: RunSink, error: Exception) -> tuple[RunOutcome, Tail]:
    """A bug or an outage outside the engine's own handling: fail the run, saying so, and
    seal its sink. If the sink itself failed, the run ends without the event."""
    reason = (
        f"The run stopped because of an internal error ({type(error).__name__}). "
        "Start it again; if it keeps failing, report it."
    )
    outcome = await record_failure(sink, reason, type(error).__name__)
    try:
        return outcome, await sink.seal()
    except Exception:
        log.exception("Could not record the failure event")
        return outcome, Tail([], [], {})


async def record_failure(sink: RunSink, reason: str, error_type: str) -> RunOutcome:
    """End the run as failed with a ``run.failed`` event that says why (stored with the
    run's end, as the engine's own end is)."""
    with contextlib.suppress(Exception):  # a failed sink: ``seal`` says so
        event = Event(
            type=RUN_FAILED,
            key="shell:run.failed",
            ts=timezone.now().timestamp(),
            payload={"reason": reason, "error_type": error_type},
        )
        await sink.emit(event, durable=False)
    return RunOutcome(status="failed", reason=reason)


async def run_engine(claimed: Claimed, sink: RunSink, cancel: CancelToken) -> RunOutcome:
    """The engine call with everything it needs built from the run's owner and spec: the
    owner's models, the built-in and custom tools plus the tools of the team's MCP servers
    (connected for the length of the run), the run's artifact store and the tool settings."""
    run, tools = claimed.run, claimed.tools
    if run.cancel_requested:
        cancel.cancel("Cancelled by a person.")
    spec = parse(run.spec)
    settings_for_tools = claimed.tool_settings
    async with AsyncExitStack() as stack:
        if spec.mcp_servers:
            try:
                mcp_tools = await stack.enter_async_context(
                    mcp_registry(spec.mcp_servers, settings_for_tools)
                )
            except McpUnavailable as error:
                return await record_failure(sink, str(error), "McpUnavailable")
            tools = tools.merged(mcp_tools)
        return await run_team(
            spec,
            run.input,
            journal=Journal(claimed.events),
            sink=sink,
            models=claimed.models,
            tools=tools,
            clock=SystemClock(),
            cancel=cancel,
            seed=run.seed,
            run_id=str(run.id),
            options=engine_options(),
            artifacts=RunArtifacts(run),
            tool_settings=settings_for_tools,
        )


def engine_options() -> EngineOptions:
    """Production waits, unless settings shorten them (tests, benchmarks)."""
    return EngineOptions(**getattr(settings, "RUN_ENGINE_OPTIONS", {}))


# --- the process's run loop and dispatch -----------------------------------------------


@shared_task(
    name="runs.tasks.execute_run", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def execute_run(run_id: str) -> None:
    """Execute a run on this worker's run loop. Idempotent: a run that is not queued (or
    orphaned by a dead worker) is left alone, so a redelivered message is harmless."""
    execute_on_loop([run_id])


@shared_task(
    name="runs.tasks.execute_runs", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def execute_runs(run_ids: list[str]) -> None:
    """``execute_run`` for each of ``run_ids`` (a round of runs started together), all at
    once on this worker's run loop: one message for the round instead of one per run."""
    execute_on_loop(run_ids)


def execute_on_loop(run_ids: Sequence[str]) -> None:
    """Execute the runs together on this process's run loop; returns once all have ended
    (the task is acknowledged then), raising the first failure."""
    futures = [run_loop.submit(execute(str(run_id))) for run_id in run_ids]
    concurrent.futures.wait(futures)
    for future in futures:
        future.result()


def execute_in_thread(run_id: str) -> concurrent.futures.Future[Any]:
    """The embedded default: execute on the web process's run loop."""
    future = run_loop.submit(execute(run_id))
    future.add_done_callback(partial(_log_failure, run_id))
    return future


def _log_failure(run_id: str, future: concurrent.futures.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("Run %s crashed", run_id, exc_info=future.exception())


def dispatch(run_id: str) -> None:
    if settings.RUN_EXECUTOR == "celery":
        execute_run.delay(run_id)
    else:
        execute_in_thread(run_id)


def enqueue(run: Run) -> None:
    """Execute the run once the transaction that created or resumed it commits."""
    transaction.on_commit(partial(dispatch, str(run.id)))


def enqueue_many(runs: Sequence[Run]) -> None:
    """``enqueue`` each of ``runs``: once the transaction commits, in messages of up to
    ``DISPATCH_BATCH`` runs (a message costs the enqueuing process and the worker about half
    a millisecond of CPU each; batches still spread a large round over the workers)."""
    transaction.on_commit(partial(dispatch_many, [str(run.id) for run in runs]))


def dispatch_many(run_ids: list[str]) -> None:
    if settings.RUN_EXECUTOR != "celery":
        for run_id in run_ids:
            execute_in_thread(run_id)
        return
    for start in range(0, len(run_ids), DISPATCH_BATCH):
        execute_runs.delay(run_ids[start : start + DISPATCH_BATCH])
