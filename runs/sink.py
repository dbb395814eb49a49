"""The event sink: numbers, hash-chains, stores and broadcasts what the engine emits.

The executor holding a run is the only writer of its events, so it assigns ``seq`` from
memory; PostgreSQL's unique constraints on (run, seq) and (run, key) are the backstop that
turns a second writer (a worker that lost the run to a takeover) into an error instead of a
fork in the chain.

``emit`` returns once the event is committed (with ``durable=False``, once it is queued: it
is committed before anything emitted after it, so a crash can lose only the tail of what
the engine reported, never a middle). Events emitted while a write is in flight are
written together in the next transaction (group commit), and everything committed in one go
is broadcast as one ``events`` message, so a burst costs one INSERT round and one PUBLISH.
Streamed tokens (``message.delta``) are never stored: consecutive ones of the same span are
concatenated and broadcast in order with the events around them.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import create_pool
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    connections,
    router,
    transaction,
)
from django.db.models import F
from redis import asyncio as aioredis

from . import heads, metrics, sql
from .engine.events import (
    AGENT_FINISHED,
    AGENT_STARTED,
    EPHEMERAL_TYPES,
    USAGE,
    Event,
    canonical_json,
    chain_hash_json,
)
from .models import Run, RunEvent
from .serializers import run_json

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The "previous hash" of a run's first event.
GENESIS_HASH = "0" * 64

#: How long the sink waits for more events before writing, to batch bursts (seconds). Not
#: when the engine waits for an event: it emits nothing more until that is stored.
COALESCE_WINDOW_S = 0.002

#: Group commits of one event loop that may be in flight at once: an event emitted while a
#: commit is under way starts the next at once instead of waiting for it to end.
WRITES_IN_FLIGHT = 3

#: How long what the runs of one event loop append is gathered before it is counted for
#: /metrics in one round trip to the shared store (seconds); a run that ends is counted with
#: its end.
COUNT_INTERVAL_S = 0.5

#: Database work of the executors runs here, off their event loop; each thread keeps its
#: own connection.
DB_THREADS = 8
DB_ATTEMPTS = 5
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


class LostRun(Exception):
    """Another executor took this run over; this one must stop without writing more."""

    @classmethod
    def of(cls, run_id: Any) -> LostRun:
        return cls(f"Run {run_id} is being written by another executor.")


@dataclass
class ChainHead:
    """The last stored event of a run: where the next one attaches."""

    seq: int = 0
    hash: str = GENESIS_HASH

    @classmethod
    def of(cls, run_id: Any) -> ChainHead:
        last = RunEvent.objects.filter(run_id=run_id).order_by("-seq").only("seq", "hash").first()
        return cls(last.seq, last.hash) if last else cls()


#: Numbers whose JSON PostgreSQL's jsonb gives back differently: floats written with a
#: positive exponent (1e+16 comes back as 10000000000000000) and negative zero.
_REWRITTEN_NUMBER = re.compile(r"\de\+\d|-0\.0(?![0-9])")


def payload_json(payload: dict[str, Any]) -> str:
    """The payload's canonical JSON as it will read back from the database, so the hash
    verifies later: serialized once here, then stored, hashed and broadcast as it is.

    NUL characters are replaced because PostgreSQL's jsonb cannot hold them, and the numbers
    jsonb would give back in another form are written in that form.
    """
    text = canonical_json(payload)
    if "\\u0000" in text or _REWRITTEN_NUMBER.search(text):
        stored = json.loads(text.replace("\\u0000", "\\ufffd"), parse_float=_as_jsonb_reads)
        text = canonical_json(stored)
    return text


def _as_jsonb_reads(literal: str) -> float | int:
    """A JSON number as it reads back from jsonb, which keeps numbers as decimals."""
    if "e+" in literal:
        return int(Decimal(literal))  # 1.5e+300: an integer of 301 digits, exactly
    number = float(literal)
    return 0.0 if number == 0 else number  # decimals have no negative zero


def chain(run_id: Any, head: ChainHead, events: Iterable[Event]) -> list[RunEvent]:
    """Rows for ``events``, numbered and hash-chained after ``head`` (which moves along).

    The event's canonical JSON (``canonical_json(row.hashed_fields())``) is written out
    member by member, sorted, from the payload's text: one encoder call per string instead
    of a dict built and serialized for each of the three forms an event takes (hashed,
    stored, broadcast). The stored and broadcast form is the same text with the hash
    inserted after ``agent``, the one member that sorts before it.
    """
    rows = []
    for event in events:
        text = payload_json(event.payload)
        seq, ts, key = head.seq + 1, datetime.fromtimestamp(event.ts, UTC), event.key[:300]
        agent, span_id, parent = event.agent or "", event.span_id or "", event.parent_span_id or ""
        first = f'{{"agent":{_json_text(agent)},'
        rest = (
            f'"key":{_json_string(key)},"parent_span_id":{_json_text(parent)},'
            f'"payload":{text},"seq":{seq},"span_id":{_json_text(span_id)},'
            f'"ts":{_json_string(ts.isoformat())},"type":{_json_string(event.type)}}}'
        )
        hash_ = chain_hash_json(head.hash, first + rest)
        row = RunEvent(
            None, run_id, seq, ts, event.type, key, agent, span_id, parent, json.loads(text), hash_
        )  # positional: half the cost of keywords, and the sink makes every row
        row.payload_json = text
        row.event_json = f'{first}"hash":"{hash_}",{rest}'
        head.seq, head.hash = seq, hash_
        rows.append(row)
    return rows


#: ``canonical_json`` of a string (the encoder it uses for strings, without the dispatch).
_json_string = encode_basestring


def _json_text(value: str) -> str:
    """A field stored as "" when absent, which the canonical form gives as null."""
    return encode_basestring(value) if value else "null"


# ``chain`` builds rows positionally, in this order.
assert [f.attname for f in RunEvent._meta.concrete_fields] == [
    "id", "run_id", "seq", "ts", "type", "key", "agent", "span_id", "parent_span_id",
    "payload", "hash",
]  # fmt: skip


def usage_totals(rows: Sequence[RunEvent]) -> dict[str, Any]:
    """The increments ``usage`` events add to the run's token and cost totals."""
    usage = [row.payload for row in rows if row.type == USAGE]
    return {
        "input_tokens": sum(int(p.get("input_tokens") or 0) for p in usage),
        "output_tokens": sum(int(p.get("output_tokens") or 0) for p in usage),
        "cost_usd": sum(Decimal(str(p.get("cost_usd") or 0)) for p in usage),
    }


def store(run_id: Any, rows: Sequence[RunEvent]) -> bool:
    """Insert ``rows`` and add their usage to the run's totals in one transaction.

    Returns whether the totals changed (the run summary then goes out to watchers).
    """
    totals = usage_totals(rows)
    changed = any(totals.values())
    with transaction.atomic():
        insert_events(rows)
        if changed:
            Run.objects.filter(id=run_id).update(
                input_tokens=F("input_tokens") + totals["input_tokens"],
                output_tokens=F("output_tokens") + totals["output_tokens"],
                cost_usd=F("cost_usd") + totals["cost_usd"],
            )
    return changed


_per_loop: dict[tuple[type, asyncio.AbstractEventLoop], Any] = {}


def one_per_loop(kind: type[T]) -> T:
    """The instance of ``kind`` serving the running event loop, made on first use (and
    again if its task ended)."""
    key = (kind, asyncio.get_running_loop())
    instance = _per_loop.get(key)
    if instance is None or not instance.running:
        instance = _per_loop[key] = kind()
    return instance


Totals = dict[str, Any]  # input_tokens, output_tokens, cost_usd: the run's new values
Batch = tuple[Any, Sequence[RunEvent], Totals | None]


def store_many(batches: Sequence[Batch]) -> list[Exception | None]:
    """The events of several runs and their new totals, atomically: with PostgreSQL in one
    statement, otherwise one INSERT and one UPDATE in a transaction. If that fails on a
    constraint, each run is stored on its own so only the run at fault (one whose events
    another executor wrote) gets the error."""
    rows = [row for _, rows, _ in batches for row in rows]
    try:
        if inserts_in_one_statement():
            store_in_one_statement(rows, batches)
        else:
            with transaction.atomic():
                insert_events(rows)
                save_totals(batches)
        return [None] * len(batches)
    except IntegrityError as error:
        if len(batches) == 1:
            return [error]
    results: list[Exception | None] = []
    for batch in batches:
        results.extend(store_many([batch]))
    return results


#: The columns ``insert_events`` writes (all but the id), and their types in PostgreSQL.
EVENT_COLUMNS = {
    "run_id": "uuid",
    "seq": "integer",
    "ts": "timestamptz",
    "type": "text",
    "key": "text",
    "agent": "text",
    "span_id": "text",
    "parent_span_id": "text",
    "payload": "jsonb",
    "hash": "text",
}
TOTALS_FIELDS = [
    Run._meta.get_field(name) for name in ("input_tokens", "output_tokens", "cost_usd")
]


def run_totals(run: Run) -> Totals:
    """The run's token and cost totals, as its executor holds them."""
    return {field.name: getattr(run, field.name) for field in TOTALS_FIELDS}


def insert_events(rows: Sequence[RunEvent]) -> None:
    """``bulk_create(rows)`` in one statement, of the JSON the sink made for each event
    instead of each field compiled and each payload serialized again. The unique
    constraints on (run, seq) and (run, key) raise IntegrityError."""
    connection = connections[router.db_for_write(RunEvent)]
    insert = insert_into()
    with connection.cursor() as cursor:
        if inserts_in_one_statement():
            # The rows as one JSON document: one parameter, however many rows (psycopg
            # parses a query with many placeholders in Python, each time: that cost more
            # than the rest of storing an event).
            cursor.execute(f"{insert} {SELECT_EVENTS_FROM_JSON}", [events_document(rows)])
        else:
            placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
            cursor.executemany(f"{insert} VALUES ({placeholders})", event_values(rows, connection))
    stored(rows, connection.alias)


@functools.cache
def insert_into() -> str:
    """``INSERT INTO`` the events' table, naming ``EVENT_COLUMNS``."""
    names = ", ".join(sql.column(RunEvent, name) for name in EVENT_COLUMNS)
    return f"INSERT INTO {sql.table(RunEvent)} ({names})"


def stored(rows: Sequence[RunEvent], alias: str) -> None:
    """Mark ``rows`` as saved in the database ``alias``, as ``bulk_create`` would."""
    for row in rows:
        row._state.adding, row._state.db = False, alias


def store_in_one_statement(rows: Sequence[RunEvent], batches: Sequence[Batch]) -> None:
    """``insert_events`` and ``save_totals`` as one PostgreSQL statement: a statement is a
    transaction of its own, so storing a batch is one round trip to the database instead of
    four (BEGIN, INSERT, UPDATE, COMMIT), each of which, on a worker whose event loop keeps
    the interpreter busy, also waits for a database thread to get the interpreter back."""
    totals = [(run_id, t) for run_id, _, t in batches if t]
    document = ",".join(
        f'{{"id":"{run_id}","input_tokens":{t["input_tokens"]},'
        f'"output_tokens":{t["output_tokens"]},"cost_usd":{Decimal(t["cost_usd"])}}}'
        for run_id, t in totals
    )
    connection = connections[router.db_for_write(RunEvent)]
    # Inside a caller's transaction, a savepoint keeps a failed statement from aborting it.
    savepoint = transaction.atomic() if connection.in_atomic_block else contextlib.nullcontext()
    with savepoint, connection.cursor() as cursor:
        cursor.execute(store_events_and_totals(), [events_document(rows), f"[{document}]"])
    stored(rows, connection.alias)


def inserts_in_one_statement() -> bool:
    """Whether ``insert_events`` is one statement (it is with PostgreSQL), so atomic alone."""
    return connections[router.db_for_write(RunEvent)].vendor == "postgresql"


SELECT_EVENTS_FROM_JSON = "SELECT {} FROM jsonb_to_recordset(%s::jsonb) AS e({})".format(  # noqa: S608
    ", ".join(
        f"coalesce({name}, '')" if name in ("agent", "span_id", "parent_span_id") else name
        for name in EVENT_COLUMNS
    ),
    ", ".join(f"{name} {type_}" for name, type_ in EVENT_COLUMNS.items()),
)


@functools.cache
def store_events_and_totals() -> str:
    """The events of a batch (an ``events_document``) and the new totals of its runs (a JSON
    array of {id, input_tokens, output_tokens, cost_usd}) in one PostgreSQL statement."""
    run, pk = sql.table(Run), sql.column(Run, "id")
    names = [field.name for field in TOTALS_FIELDS]
    assignments = ", ".join(f"{sql.column(Run, name)} = t.{name}" for name in names)
    update = (
        f"UPDATE {run} SET {assignments} FROM jsonb_to_recordset(%s::jsonb) "  # noqa: S608
        f"AS t(id uuid, {sql.record(Run, names)}) WHERE {run}.{pk} = t.id"
    )
    # Data-modifying CTEs run once and to the end whether or not the query reads them.
    return (
        f"WITH stored AS ({insert_into()} {SELECT_EVENTS_FROM_JSON}), totals AS ({update}) SELECT 1"
    )


def events_document(rows: Sequence[RunEvent]) -> str:
    """The rows as a JSON array: each event's JSON (``to_json``) with its run's id."""
    return "[" + ",".join(f'{{"run_id":"{row.run_id}",{row.to_json()[1:]}' for row in rows) + "]"


def event_values(rows: Sequence[RunEvent], connection: Any) -> list[tuple[Any, ...]]:
    run_field, adapt_ts = RunEvent._meta.get_field("run"), connection.ops.adapt_datetimefield_value
    run_ids = {row.run_id: run_field.get_db_prep_value(row.run_id, connection) for row in rows}
    return [
        (
            run_ids[row.run_id],
            row.seq,
            adapt_ts(row.ts),
            row.type,
            row.key,
            row.agent,
            row.span_id,
            row.parent_span_id,
            row.canonical_payload(),
            row.hash,
        )
        for row in rows
    ]


def save_totals(batches: Sequence[Batch]) -> None:
    """Write the runs' new totals: one UPDATE statement, executed once per run (psycopg
    sends them in one round trip), instead of ``bulk_update``'s CASE per column."""
    connection = connections[router.db_for_write(Run)]
    params = [
        [field.get_db_prep_save(totals[field.name], connection) for field in TOTALS_FIELDS]
        + [Run._meta.pk.get_db_prep_value(run_id, connection)]
        for run_id, _, totals in batches
        if totals
    ]
    if not params:
        return
    quote = connection.ops.quote_name
    update = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 - names from the model
        quote(Run._meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in TOTALS_FIELDS),
        quote(Run._meta.pk.column),
    )
    with connection.cursor() as cursor:
        cursor.executemany(update, params)


class EventWriter:
    """Stores the events of every run on one event loop, batched across runs.

    A worker process carries hundreds of runs; one commit per event per run would make the
    database the bottleneck, so what all the runs emitted while earlier writes were in
    flight goes into the next transaction together (group commit across runs). Up to
    ``WRITES_IN_FLIGHT`` transactions overlap, so an event does not wait for a commit it is
    not part of to end; a run's own events stay in order because its sink writes one batch
    at a time.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Batch, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(WRITES_IN_FLIGHT)
        self._rounds: set[asyncio.Task[None]] = set()
        self._task = asyncio.create_task(self._write_loop(), name="event-writer")

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def write(self, run_id: Any, rows: Sequence[RunEvent], totals: Totals | None) -> None:
        """Store ``rows`` (and the run's new totals). Raises IntegrityError."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append(((run_id, rows, totals), done))
        self._wake.set()
        await done

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            await self._slots.acquire()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                self._slots.release()
                continue
            round_ = asyncio.create_task(self._store(batch))
            self._rounds.add(round_)  # a reference, so the task is not collected mid-way
            round_.add_done_callback(self._rounds.discard)

    async def _store(self, batch: list[tuple[Batch, asyncio.Future[None]]]) -> None:
        try:
            results = await in_db_thread(store_many, [b for b, _ in batch])
        except Exception as error:
            results = [error] * len(batch)
        finally:
            self._slots.release()
        for (_, done), result in zip(batch, results, strict=True):
            if done.done():
                continue
            if result is None:
                done.set_result(None)
            else:
                done.set_exception(result)


def append(run: Run, events: Sequence[Event]) -> list[RunEvent]:
    """Append events to a run nobody is executing (a person's answer, a cancel, a fork).

    Must run inside a transaction that holds the run's row lock, so it cannot interleave
    with an executor claiming the run. Signs the run's new head (``runs.heads``): nobody
    executes the run to sign it when it stops.
    """
    known = set(
        RunEvent.objects.filter(run=run, key__in=[e.key for e in events]).values_list(
            "key", flat=True
        )
    )
    head = ChainHead.of(run.id)
    rows = chain(run.id, head, [e for e in events if e.key not in known])
    if not rows:
        return rows
    store(run.id, rows)
    run.audit_head = heads.sign(run.id, head.seq, head.hash)
    Run.objects.filter(id=run.id).update(audit_head=run.audit_head)
    transaction.on_commit(lambda: broadcast_events(run.id, rows))
    transaction.on_commit(lambda: metrics.observe_events(run, rows))
    return rows


class Tally:
    """Counts for /metrics what every run on one event loop appends.

    One round trip to the shared store per ``COUNT_INTERVAL_S`` for all the runs, instead
    of one per batch of each run: with hundreds of runs on a loop, counting batch by batch
    kept the database threads busier than storing the events did. A run that ends does not
    wait for the interval: its end is recorded with what is pending (``execution.Finishes``).
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Run, Sequence[RunEvent], dict[str, float]]] = []
        self._wake = asyncio.Event()
        #: Held while a round counts, and by whoever ``take``s what is pending to count it
        #: itself, so nothing added is reported as counted while its count is in flight.
        self.lock = asyncio.Lock()
        self._task = asyncio.create_task(self._count_loop(), name="run-tally")

    @property
    def running(self) -> bool:
        return not self._task.done()

    def add(self, run: Run, rows: Sequence[RunEvent], agent_starts: dict[str, float]) -> None:
        self._pending.append((run, rows, agent_starts))
        self._wake.set()

    def take(self) -> list[tuple[Run, Sequence[RunEvent], dict[str, float]]]:
        """What is pending, for the caller to count (holding ``lock``)."""
        taken, self._pending = self._pending, []
        return taken

    async def _count_loop(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(COUNT_INTERVAL_S)
            self._wake.clear()
            async with self.lock:
                pending = self.take()
                try:
                    if pending:
                        await in_db_thread(metrics.observe_many, pending)
                except Exception:
                    log.warning(
                        "Could not count %d runs' events for /metrics", len(pending), exc_info=True
                    )


# --- broadcasting ----------------------------------------------------------------------


def events_message(rows: Sequence[RunEvent]) -> dict[str, Any]:
    """Stored events for the group, with the websocket text serialized once for all
    watchers: a consumer that is up to date forwards it as it is. Each event is its
    canonical JSON (as in the audit export), made around the payload's stored text."""
    text = '{"type":"events","events":[' + ",".join(row.to_json() for row in rows) + "]}"
    return {"type": "run.events", "first_seq": rows[0].seq, "last_seq": rows[-1].seq, "text": text}


def events_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a ``run.events`` message."""
    return json.loads(message["text"])["events"]


def delta_message(agent: str | None, span_id: str | None, text: str) -> dict[str, Any]:
    return {"type": "run.delta", "agent": agent, "span_id": span_id, "text": text}


def run_message(run: Run) -> dict[str, Any]:
    return {"type": "run.summary", "run": run_json(run)}


def broadcast_events(run_id: Any, rows: Sequence[RunEvent]) -> None:
    """From synchronous code (the web tier): tell watchers about stored events."""
    if rows:
        publish(f"run.{run_id}", [events_message(rows)])


def broadcast_run(run: Run) -> None:
    """From synchronous code: tell watchers the run's summary changed."""
    publish(run.group_name, [run_message(run)])


def publish(group: str, messages: Sequence[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for message in messages:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        # Watchers catch up from the database; a lost broadcast must not fail the caller.
        log.warning("Could not broadcast to %s", group, exc_info=True)


async def publish_soon(group: str, messages: Sequence[dict[str, Any]]) -> None:
    """From the run loop: publish ``messages`` to ``group``. With Redis this only queues them
    for the loop's ``Publisher``, which sends everything in the order queued; the caller
    (a sink writing its next batch, a run starting or ending) does not wait for Redis."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    if isinstance(layer, RedisPubSubChannelLayer):
        one_per_loop(Publisher).publish(group, messages)
        return
    await _group_send(layer, group, messages)


async def _group_send(layer: Any, group: str, messages: Sequence[dict[str, Any]]) -> None:
    try:
        for message in messages:
            await layer.group_send(group, message)
    except Exception:
        log.warning("Could not broadcast to %s", group, exc_info=True)


class Publisher:
    """Publishes what every run on one event loop broadcasts, many messages a round trip.

    channels-redis publishes one message per round trip, under a lock per connection, so
    with hundreds of runs on a loop (or a run streaming fast) the queue of publishes, not
    the database, set the pace. Here everything queued while a round trip is in flight goes
    out in the next one as one Redis pipeline, in the order it was queued. The messages are
    exactly what ``group_send`` would publish (same channel, same serialization), so the
    consumers receive them through the layer as usual.
    """

    def __init__(self) -> None:
        self._layer: Any = get_channel_layer()
        self._clients: dict[Any, Any] = {}
        self._pending: list[tuple[str, bytes, asyncio.Future[None] | None]] = []
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._publish_loop(), name="run-publisher")

    @property
    def running(self) -> bool:
        return not self._task.done()

    def publish(self, group: str, messages: Sequence[dict[str, Any]]) -> asyncio.Future[None]:
        """Queue ``messages``; the future is done once they are published."""
        channel = self._layer._get_group_channel_name(group)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for message in messages[:-1]:
            self._pending.append((channel, self._layer.serialize(message), None))
        self._pending.append((channel, self._layer.serialize(messages[-1]), done))
        self._wake.set()
        return done

    async def _publish_loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            try:
                await self._send(batch)
            except Exception:
                # Watchers catch up from the database; a lost broadcast fails nobody.
                log.warning("Could not broadcast %d messages", len(batch), exc_info=True)
            for *_, done in batch:
                if done is not None and not done.done():
                    done.set_result(None)

    async def _send(self, batch: Sequence[tuple[str, bytes, Any]]) -> None:
        by_shard: dict[Any, list[tuple[str, bytes]]] = {}
        for channel, data, _ in batch:
            by_shard.setdefault(self._layer._get_shard(channel), []).append((channel, data))
        for shard, messages in by_shard.items():
            pipeline = self._client(shard).pipeline(transaction=False)
            for channel, data in messages:
                pipeline.publish(channel, data)
            await pipeline.execute()

    def _client(self, shard: Any) -> Any:
        """This loop's own connection to the shard's Redis (the layer's is kept for it)."""
        if shard not in self._clients:
            self._clients[shard] = aioredis.Redis(connection_pool=create_pool(shard.host))
        return self._clients[shard]


# --- the sink the engine writes to ------------------------------------------------------


@dataclass
class _Delta:
    agent: str | None
    span_id: str | None
    text: str


@dataclass
class Tail:
    """What a run emitted that its sink had not written when it was sealed: the rows, the
    broadcast that tells watchers (deltas in place), and the starts of the agents that
    finish in them (for counting). Their usage is in the run's totals already."""

    rows: list[RunEvent]
    messages: list[dict[str, Any]]
    agent_starts: dict[str, float]


@dataclass
class _Pending:
    event: Event
    done: asyncio.Future[None] | None  # None: the emitter did not wait (durable=False)


class RunSink:
    """Implements ``runs.engine.interfaces.EventSink`` for one run in one executor."""

    def __init__(self, run: Run, head: ChainHead, known_keys: Iterable[str] = ()) -> None:
        self.run = run
        self.head = head
        self.known_keys = set(known_keys)
        self._outbox: list[_Pending | _Delta] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._sealed = False  # what is queued is left to ``seal``'s caller
        self._awaited = False  # the engine waits for an event in the outbox
        self._failure: BaseException | None = None
        self._writer = asyncio.create_task(self._write_loop(), name=f"sink-{run.id}")
        self._agent_starts: dict[str, float] = {}  # span id: when, for agents still working

    async def emit(self, event: Event, *, durable: bool = True) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise RuntimeError("The run's event sink is closed.")
        if event.type in EPHEMERAL_TYPES:
            self._add_delta(event)
            return
        if event.key in self.known_keys:
            return  # already recorded: re-execution regenerates the same keys
        self.known_keys.add(event.key)
        if not durable:
            self._outbox.append(_Pending(event, None))
            self._wake.set()
            return
        done = asyncio.get_running_loop().create_future()
        self._outbox.append(_Pending(event, done))
        self._awaited = True
        self._wake.set()
        await done

    def _add_delta(self, event: Event) -> None:
        text = str(event.payload.get("text") or "")
        last = self._outbox[-1] if self._outbox else None
        if isinstance(last, _Delta) and (last.agent, last.span_id) == (event.agent, event.span_id):
            last.text += text
        else:
            self._outbox.append(_Delta(event.agent, event.span_id, text))
        self._wake.set()

    async def close(self) -> None:
        """Write and broadcast what is pending, then stop. Executors ``seal`` instead, so
        that their run's last events are stored with its end; this drains a sink whose
        run's end is recorded separately (the sink's own tests do)."""
        await self._stop(sealed=False)

    async def seal(self) -> Tail:
        """Stop, once the write in flight is done, and hand over what is still queued:
        numbered and chained, not stored. The executor stores it in the transaction that
        records how the run ended (``execution.finish``), so the end of a run costs one
        round trip to the database, not one for its last events and one for its end."""
        await self._stop(sealed=True)
        batch, self._outbox = self._outbox, []
        _, rows = self._chain(batch)
        self._add_usage(rows)  # the run's totals, written and broadcast with its end
        return Tail(rows, self._messages(batch, rows), self._finished_agents(rows))

    async def _stop(self, *, sealed: bool) -> None:
        """Take no more; write what is queued unless ``sealed`` (the write in flight ends
        either way), and raise the failure that stopped the writer, if any."""
        self._closed, self._sealed = True, sealed
        self._wake.set()
        await self._writer
        if self._failure is not None:
            raise self._failure

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            if not self._awaited and not self._sealed:
                await asyncio.sleep(COALESCE_WINDOW_S)
            if self._sealed:
                return
            self._wake.clear()
            self._awaited = False
            batch, self._outbox = self._outbox, []
            if batch:
                await self._flush(batch)
            if self._closed and not self._outbox:
                return

    def _chain(self, batch: list[_Pending | _Delta]) -> tuple[list[_Pending], list[RunEvent]]:
        """The batch's events (deltas aside) and their rows, numbered after the head."""
        pending = [item for item in batch if isinstance(item, _Pending)]
        return pending, chain(self.run.id, self.head, [item.event for item in pending])

    async def _flush(self, batch: list[_Pending | _Delta]) -> None:
        stored = self.head.seq, self.head.hash
        pending, rows = self._chain(batch)
        totals = self._add_usage(rows)
        try:
            if rows:
                await one_per_loop(EventWriter).write(self.run.id, rows, totals)
        except IntegrityError as error:
            self._fail(pending, LostRun.of(self.run.id))
            log.warning("Stopped writing run %s: %s", self.run.id, error)
            return
        except BaseException as error:
            # The head goes back to the last event stored: the run's end signs it.
            self.head.seq, self.head.hash = stored
            self._fail(pending, error)
            raise
        for item in pending:
            if item.done is not None and not item.done.done():
                item.done.set_result(None)
        messages = self._messages(batch, rows)
        if totals:
            messages.append(self._usage_summary())
        await publish_soon(self.run.group_name, messages)
        if rows:
            self._count(rows)

    def _count(self, rows: Sequence[RunEvent]) -> None:
        """Count ``rows`` for /metrics, off the run's write path."""
        one_per_loop(Tally).add(self.run, rows, self._finished_agents(rows))

    def _finished_agents(self, rows: Sequence[RunEvent]) -> dict[str, float]:
        """When each agent that finishes in ``rows`` started (span id: time), from the
        starts this sink saw, so counting an agent's duration needs no query."""
        starts = {}
        for row in rows:
            if row.type == AGENT_STARTED:
                self._agent_starts[row.span_id] = row.ts.timestamp()
            elif row.type == AGENT_FINISHED and row.span_id in self._agent_starts:
                starts[row.span_id] = self._agent_starts.pop(row.span_id)
        return starts

    def _add_usage(self, rows: Sequence[RunEvent]) -> Totals | None:
        """The run's new totals if ``rows`` used tokens. This executor is the only one adding
        to them while it holds the run, so it keeps them in memory and writes the values."""
        used = usage_totals(rows)
        if not any(used.values()):
            return None
        run = self.run
        run.input_tokens += used["input_tokens"]
        run.output_tokens += used["output_tokens"]
        run.cost_usd = Decimal(run.cost_usd) + used["cost_usd"]
        return run_totals(run)

    def _usage_summary(self) -> dict[str, Any]:
        run = self.run
        summary = {
            "id": str(run.id),
            "status": run.status,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": float(run.cost_usd),
            "last_seq": self.head.seq,
        }
        return {"type": "run.summary", "run": summary}

    @staticmethod
    def _messages(batch: list[_Pending | _Delta], rows: list[RunEvent]) -> list[dict[str, Any]]:
        """The batch in emission order: consecutive events in one message, deltas between."""
        messages: list[dict[str, Any]] = []
        stored = iter(rows)
        run_of_rows: list[RunEvent] = []
        for item in batch:
            if isinstance(item, _Pending):
                run_of_rows.append(next(stored))
                continue
            if run_of_rows:
                messages.append(events_message(run_of_rows))
                run_of_rows = []
            messages.append(delta_message(item.agent, item.span_id, item.text))
        if run_of_rows:
            messages.append(events_message(run_of_rows))
        return messages

    def _fail(self, pending: list[_Pending], error: BaseException) -> None:
        self._failure = error
        for item in pending:
            if item.done is not None and not item.done.done():
                item.done.set_exception(error)
