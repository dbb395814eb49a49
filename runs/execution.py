"""Executing a run: claim it, run the engine on its journal, record how it ended.

The same code runs in a Celery worker and on a thread of the web process. Every process has
one event loop (``run_loop``) on a daemon thread that carries all the runs it executes: runs
spend their time waiting on model APIs, so one loop holds hundreds of them, and blocking ORM
work goes to the sink's database threads.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import functools
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from teams.models import TeamVersion
from teams.spec import parse

from . import heads, metrics, sql, telemetry, wakes, webhooks
from .engine import EngineOptions, run_team
from .engine.events import RUN_FAILED, Event
from .engine.interfaces import CancelToken, Journal, RunOutcome, SystemClock
from .engine.models import StaticModelRegistry, close_providers
from .engine.tools import Registry
from .engine.tools.mcp import McpUnavailable, mcp_registry
from .models import Run, RunEvent
from .sink import (
    ChainHead,
    LostRun,
    RunSink,
    Tail,
    Tally,
    in_db_thread,
    one_per_loop,
    publish_soon,
    run_message,
    run_totals,
    store_many,
)
from .wiring import RunArtifacts, model_registries, tool_registries, tool_settings

log = logging.getLogger(__name__)
V = TypeVar("V")
R = TypeVar("R")


def heartbeat_s() -> float:
    return float(getattr(settings, "RUN_HEARTBEAT_S", 5.0))


def stale_after_s() -> float:
    """A running run whose heartbeat is older than this is taken to be orphaned."""
    return float(getattr(settings, "RUN_STALE_AFTER_S", 30.0))


def cancel_poll_s() -> float:
    return float(getattr(settings, "RUN_CANCEL_POLL_S", 1.0))


# --- state changes (blocking, on the database threads) ---------------------------------


@dataclass
class Claimed:
    """What executing a run starts from, read on a database thread."""

    executor: str  # the claim's holder, as in ``Run.claimed_by``
    run: Run
    events: list[Event]  # recorded before: the journal
    head: ChainHead
    models: StaticModelRegistry
    tools: Registry
    summary: dict[str, Any]  # the run.summary message that tells watchers it runs
    tool_settings: dict[str, Any]  # the deployment's settings as the run's tools see them


def claim(run_ids: Sequence[str], executor: str) -> dict[str, Claimed]:
    """Take the runs that can be taken (queued, or running with a stale heartbeat: their
    worker died) for ``executor``, and read what their execution needs: four statements
    for them all, however many there are, and two more if some of them ran before (their
    journal and artifacts). Returns the runs taken, by id."""
    if not take(run_ids, executor):
        return {}
    runs = taken(run_ids, executor)
    # Most runs start for the first time: nothing recorded, nothing made, nothing to read.
    resumed = [run for run in runs if run.ran_before]  # type: ignore[attr-defined]
    prefetch_related_objects(resumed, "artifacts")
    for run in runs:
        if not run.ran_before:  # type: ignore[attr-defined]
            prefetched_nothing(run, "artifacts")
    journals = recorded(resumed)
    journals |= {run.id: ([], ChainHead()) for run in runs if run.id not in journals}
    owners, workspaces = {run.owner_id for run in runs}, {run.workspace_id for run in runs}
    models, tools = model_registries(workspaces), tool_registries(workspaces)
    settings_for_tools = tool_settings(owners)
    claimed = {}
    for run in runs:
        events, head = journals[run.id]
        run.last_seq = head.seq  # type: ignore[attr-defined]
        claimed[str(run.id)] = Claimed(
            executor, run, events, head, models[run.workspace_id], tools[run.workspace_id],
            run_message(run), settings_for_tools[run.owner_id],
        )  # fmt: skip
    return claimed


def prefetched_nothing(instance: Any, related: str) -> None:
    """Mark ``instance.<related>`` as prefetched and empty, as ``prefetch_related`` leaves it
    when it finds no rows, without compiling the query that would find none."""
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[related] = no_rows(instance._meta.get_field(related))


@functools.cache
def no_rows(relation: Any) -> Any:
    """One empty, evaluated queryset of a relation's model, shared by every instance marked
    as having none: ``none()`` keeps any queryset made from it empty too."""
    rows = relation.related_model._base_manager.none()
    rows._result_cache, rows._prefetch_done = [], True
    return rows


def take(run_ids: Sequence[str], executor: str) -> int:
    """The conditional update that claims runs: how many it took."""
    now = timezone.now()
    stale = now - timedelta(seconds=stale_after_s())
    ids, params = sql.values_in(Run._meta.pk, run_ids)
    status, claimed_by, heartbeat, started, pk = (
        sql.column(Run, name)
        for name in ("status", "claimed_by", "heartbeat_at", "started_at", "id")
    )
    statement = (
        f"UPDATE {sql.table(Run)} SET {status} = %s, {claimed_by} = %s, {heartbeat} = %s, "  # noqa: S608 - names from the model
        f"{started} = COALESCE({started}, %s) WHERE {pk} IN ({ids}) "
        f"AND ({status} = %s OR ({status} = %s AND {heartbeat} < %s))"
    )
    at, before = sql.datetime_param(Run, now), sql.datetime_param(Run, stale)
    running, queued = str(Run.Status.RUNNING), str(Run.Status.QUEUED)
    return sql.execute(
        Run, statement, [running, executor, at, at, *params, queued, running, before]
    )


def taken(run_ids: Sequence[str], executor: str) -> list[Run]:
    """The runs ``executor`` holds among ``run_ids``, each with its team version's number
    and whether it has recorded events (``ran_before``), in one statement."""
    ids, params = sql.values_in(Run._meta.pk, run_ids)
    pk, version, claimed_by = (sql.column(Run, n) for n in ("id", "team_version", "claimed_by"))
    number, event_run = sql.column(TeamVersion, "number"), sql.column(RunEvent, "run")
    statement = (
        f"SELECT {sql.columns(Run, 'r')}, v.{number}, EXISTS (SELECT 1 FROM "  # noqa: S608
        f"{sql.table(RunEvent)} e WHERE e.{event_run} = r.{pk}) "
        f"FROM {sql.table(Run)} r LEFT JOIN {sql.table(TeamVersion)} v "
        f"ON v.{sql.column(TeamVersion, 'id')} = r.{version} "
        f"WHERE r.{pk} IN ({ids}) AND r.{claimed_by} = %s"
    )
    runs = sql.fetch(Run, statement, [*params, executor], ["version_number", "ran_before"])
    for run in runs:
        if run.team_version_id is not None:  # the number is all a summary reads of it
            partial = TeamVersion.from_db(
                run._state.db, ["id", "number"], [run.team_version_id, run.version_number]
            )  # type: ignore[attr-defined]
            Run.team_version.field.set_cached_value(run, partial)
    return runs


def recorded(runs: Sequence[Run]) -> dict[Any, tuple[list[Event], ChainHead]]:
    """Each run's stored events and the head of its chain, in one query (none for none)."""
    rows: dict[Any, list[RunEvent]] = {run.id: [] for run in runs}
    if rows:
        for row in RunEvent.objects.filter(run_id__in=list(rows)).order_by("run_id", "seq"):
            rows[row.run_id].append(row)
    journals = {}
    for run_id, mine in rows.items():
        head = ChainHead(mine[-1].seq, mine[-1].hash) if mine else ChainHead()
        journals[run_id] = ([row.to_event() for row in mine], head)
    return journals


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


class Claims(Rounds[None, Claimed]):
    """Claims the runs that ask to start, a round at a time. A run claimed for an asker that
    is gone is left to the takeover of runs with a stale heartbeat."""

    def work(self, asked: dict[str, None]) -> dict[str, Claimed | Exception]:
        return dict(claim(list(asked), new_executor_id()))


@dataclass
class Ended:
    """How the engine left a run (ended, or paused), for ``finish`` to record."""

    run: Run  # its executor's copy, whose totals the sink kept current
    executor: str
    outcome: RunOutcome
    tail: Tail  # what its sink had not written yet
    last_seq: int  # with the tail
    last_hash: str  # the hash of event ``last_seq``: the head signed with the run's end


class Finishes(Rounds[Ended, dict[str, Any]]):
    """Records how runs ended (or paused), a round at a time: their last events, their
    ends and what /metrics counts, in one call on a database thread."""

    async def answer(self, asked: dict[str, Ended]) -> dict[str, Any]:
        tally = one_per_loop(Tally)
        # A run is counted before it is reported as ended: what the Tally holds is counted
        # here, and no Tally round may still be counting when the ends commit.
        async with tally.lock:
            return await in_db_thread(finish_each, asked, Counting(tally.take()))


def finish_each(asked: dict[str, Ended], counting: Counting) -> dict[str, Any]:
    """``finish`` for the runs asked, by id: together, or if that fails one at a time, so
    one run's failure does not fail the others. A run whose last events conflict with
    stored ones gets LostRun: another executor wrote it."""
    try:
        return finish(list(asked.values()), counting)
    except Exception as error:
        if len(asked) == 1:
            return {run_id: _lost_if_conflict(run_id, error) for run_id in asked}
    answers: dict[str, Any] = {}
    for run_id, ended in asked.items():
        try:
            answers |= finish([ended], counting)
        except Exception as error:
            answers[run_id] = _lost_if_conflict(run_id, error)
    return answers


def _lost_if_conflict(run_id: str, error: Exception) -> Exception:
    """A run whose last events conflict with stored ones was written by another executor."""
    if isinstance(error, IntegrityError):
        return LostRun.of(run_id)
    return error


class Counting:
    """What /metrics is to count with the ends of a round: the Tally's pending entries
    (counted with the first run recorded) and the tail of each run recorded."""

    def __init__(self, pending: list[tuple[Run, Sequence[RunEvent], dict[str, float]]]) -> None:
        self.pending = pending

    def count(self, ended: Sequence[Ended]) -> None:
        entries = self.pending + [(e.run, e.tail.rows, e.tail.agent_starts) for e in ended]
        self.pending = []
        try:
            metrics.observe_many([entry for entry in entries if entry[1]])
        except Exception:
            log.warning("Could not count %d runs' events for /metrics", len(entries), exc_info=True)


def keep_alive(claims: dict[str, str], beat: bool = True) -> tuple[set[str], set[str]]:
    """Beat the hearts of the runs this loop executes ({run id: executor}) if ``beat``;
    returns the ids it no longer holds (taken over) and those a person asked to cancel. Two
    queries for all of them, however many there are.

    A run whose row another transaction holds (its sink adding to its totals) is skipped
    for this beat rather than waited for: waiting, with the rows locked in whatever order
    the update meets them, deadlocked against the sink's group commits, and PostgreSQL
    takes a second (``deadlock_timeout``) to notice. A skipped beat is made up by the
    next one, long before a run counts as stale."""
    if beat:
        holding = Run.objects.filter(id__in=list(claims), claimed_by__in=list(claims.values()))
        free = holding.select_for_update(skip_locked=True, no_key=True).order_by().values("pk")
        with transaction.atomic():
            Run.objects.filter(pk__in=free).update(heartbeat_at=timezone.now())
    rows = Run.objects.filter(id__in=list(claims)).values_list(
        "id", "claimed_by", "cancel_requested"
    )
    lost = {str(id_) for id_, holder, _ in rows if holder != claims[str(id_)]}
    cancelled = {str(id_) for id_, _, cancel in rows if cancel}
    return lost | (set(claims) - {str(r[0]) for r in rows}), cancelled


def finish(ended: Sequence[Ended], counting: Counting) -> dict[str, dict[str, Any]]:
    """Record how the engine left each of these runs, in one transaction: its end (status,
    output, totals) and the events its sink had not written, for each run whose executor
    still holds it; a run another executor took over is left alone. Counts them for
    /metrics before committing. Returns the run.summary message for watchers of each run
    recorded, by id. Raises IntegrityError if a run's events conflict with stored ones.

    Each run is its executor's copy, whose totals the sink kept current: it gets the new
    fields here rather than being read again."""
    with transaction.atomic():
        fields = {
            e.run.id: ended_fields(e.outcome)
            | run_totals(e.run)
            | {"audit_head": heads.sign(e.run.id, e.last_seq, e.last_hash)}
            for e in ended
        }
        # Holds the rows of the runs it writes: no other executor can claim them now.
        kept = record_ends([(e.run, e.executor, fields[e.run.id]) for e in ended])
        mine = [e for e in ended if str(e.run.id) in kept]
        for error in store_many([(e.run.id, e.tail.rows, None) for e in mine if e.tail.rows]):
            if error is not None:
                raise error
        for e in mine:
            for name, value in fields[e.run.id].items():
                setattr(e.run, name, value)
            e.run.last_seq = e.last_seq  # type: ignore[attr-defined]
        recorded = [e.run for e in mine]
        # Only runs whose tools made artifacts since the claim read them again.
        prefetch_related_objects(recorded, "artifacts")
        webhooks.schedule_for_runs(recorded)  # the teams' receivers hear it ended or waits
        # Before the commit, so a run is counted before anyone can see it ended; a commit
        # that fails after this (and is tried again) counts it twice, a loss /metrics takes.
        counting.count(mine)
    for run in recorded:
        telemetry.export_run(run)  # no-op unless OTEL_EXPORTER_OTLP_ENDPOINT, or waiting
    return {str(run.id): run_message(run) for run in recorded}


def record_ends(ends: Sequence[tuple[Run, str, dict[str, Any]]]) -> set[str]:
    """Write each run's ``fields`` if its executor still holds it; the ids of those written.
    With PostgreSQL one statement for the runs that end alike (those that wait set fewer
    fields), instead of one per run."""
    if sql.writer(Run).vendor != "postgresql":
        return {str(run.id) for run, executor, fields in ends if record_end(run, executor, fields)}
    alike: dict[tuple[str, ...], list[tuple[Run, str, dict[str, Any]]]] = {}
    for end in ends:
        alike.setdefault(tuple(end[2]), []).append(end)
    kept: set[str] = set()
    for names, group in alike.items():
        rows = [
            {**fields, "id": str(run.id), "executor": executor} for run, executor, fields in group
        ]
        document = json.dumps(rows, default=_as_json)
        with sql.writer(Run).cursor() as cursor:
            cursor.execute(ends_statement(names), [document])
            kept |= {str(id_) for (id_,) in cursor.fetchall()}
    return kept


def _as_json(value: Any) -> str:
    """Times in full (``DjangoJSONEncoder`` cuts them to milliseconds), and decimals as
    the exact text PostgreSQL reads them from."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@functools.cache
def ends_statement(names: tuple[str, ...]) -> str:
    """The UPDATE that writes ``names`` to the runs of a JSON array of records (each with
    the run's ``id`` and its ``executor``) that their executors still hold."""
    table, pk, claimed_by = sql.table(Run), sql.column(Run, "id"), sql.column(Run, "claimed_by")
    assignments = ", ".join(f"{sql.column(Run, name)} = t.{name}" for name in names)
    return (
        f"UPDATE {table} SET {assignments} "  # noqa: S608 - names from the model
        f"FROM jsonb_to_recordset(%s::jsonb) AS t(id uuid, executor text, {sql.record(Run, names)}) "
        f"WHERE {table}.{pk} = t.id AND {table}.{claimed_by} = t.executor "
        f"RETURNING {table}.{pk}"
    )


def record_end(run: Run, executor: str, fields: dict[str, Any]) -> bool:
    """Write ``fields`` to the run if ``executor`` still holds it."""
    assignments = ", ".join(f"{sql.column(Run, name)} = %s" for name in fields)
    pk, claimed_by = sql.column(Run, "id"), sql.column(Run, "claimed_by")
    statement = f"UPDATE {sql.table(Run)} SET {assignments} WHERE {pk} = %s AND {claimed_by} = %s"  # noqa: S608
    _, (run_id,) = sql.values_in(Run._meta.pk, [run.id])
    return bool(sql.execute(Run, statement, [*sql.save_params(Run, fields), run_id, executor]))


def ended_fields(outcome: RunOutcome) -> dict[str, Any]:
    wake_at = wakes.wake_at(outcome)
    fields: dict[str, Any] = {"claimed_by": "", "heartbeat_at": None, "wake_at": wake_at}
    if outcome.status == "waiting":
        return fields | {
            "status": Run.Status.WAITING,
            "waiting_for": outcome.waiting_for or outcome.reason or "",
        }
    return fields | {
        "status": outcome.status,
        "finished_at": timezone.now(),
        "output": outcome.output,
        "failure_reason": outcome.reason or "" if outcome.status != "succeeded" else "",
        "waiting_for": "",
    }


# --- the execution ---------------------------------------------------------------------


def new_executor_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


async def execute(run_id: str) -> str | None:
    """Execute the run if it can be claimed; returns its status afterwards, None if not ours."""
    claimed = await one_per_loop(Claims).ask(run_id, None)
    if claimed is None:
        return None
    run, executor = claimed.run, claimed.executor
    # Queued, not waited for: the Publisher sends in order, so watchers get this summary
    # before the run's events, and the run need not wait for a round trip to Redis.
    await publish_soon(run.group_name, [claimed.summary])
    sink = RunSink(run, claimed.head, (e.key for e in claimed.events))
    cancel = CancelToken()
    engine = asyncio.create_task(run_engine(claimed, sink, cancel))
    watcher = one_per_loop(RunWatcher)
    watcher.runs[run_id] = _Watched(executor, cancel, engine)
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
        summary = await one_per_loop(Finishes).ask(
            run_id, Ended(run, executor, outcome, tail, sink.head.seq, sink.head.hash)
        )
    except LostRun:
        log.warning("Run %s was taken over by another executor; stopped here.", run_id)
        return None
    if summary is None:
        return None
    wakes.expect(run.wake_at)
    # Published from the run loop: a publish from a database thread would need an event
    # loop, and a Redis connection, of its own. The run's last events go first.
    await publish_soon(run.group_name, [*tail.messages, summary])
    return run.status


@dataclass
class _Watched:
    executor: str
    cancel: CancelToken
    engine: asyncio.Task[Any]


class RunWatcher:
    """Keeps the heartbeat of every run executing on one event loop, passes on cancels and
    stops runs another executor took over: one round of queries per second for all, and a
    beat every ``RUN_HEARTBEAT_S``."""

    def __init__(self) -> None:
        self.runs: dict[str, _Watched] = {}
        self._task = asyncio.create_task(self._loop(), name="run-watcher")

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def _loop(self) -> None:
        last_beat = 0.0
        while True:
            await asyncio.sleep(min(cancel_poll_s(), heartbeat_s()))
            if not self.runs:
                continue
            claims = {run_id: w.executor for run_id, w in self.runs.items()}
            # Cancels are looked for at every poll, hearts beaten only as often as they must
            # be: each beat rewrites every running run's row.
            now = asyncio.get_running_loop().time()
            beat = now - last_beat >= heartbeat_s()
            try:
                lost, cancelled = await in_db_thread(keep_alive, claims, beat)
                last_beat = now if beat else last_beat
            except Exception:
                log.warning("Could not beat the runs' heartbeats", exc_info=True)
                continue
            for run_id in lost:
                if run_id in self.runs:
                    self.runs.pop(run_id).engine.cancel()
            for run_id in cancelled:
                watched = self.runs.get(run_id)
                if watched and not watched.cancel.cancelled:
                    watched.cancel.cancel("Cancelled by a person.")


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
        from .tasks import execute_run

        execute_run.delay(run_id)
    else:
        execute_in_thread(run_id)


def enqueue(run: Run) -> None:
    """Execute the run once the transaction that created or resumed it commits."""
    transaction.on_commit(partial(dispatch, str(run.id)))
