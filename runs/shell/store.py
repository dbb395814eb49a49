"""All the SQL the run shell writes and reads: the statements an executor makes for every run
it claims and ends, and the group commits of events and totals.

Django's query compiler spends about half a millisecond of CPU on even a one-line filter
(benchmarks/claims.py), more than the database takes to answer it; a worker starting and
ending dozens of runs a second, on the one core its process can use, spent more CPU
compiling these statements than executing the runs. They are written here once, from the
models' own table and column names, in SQL that PostgreSQL and SQLite both accept (with
PostgreSQL, several of them as one statement); rows come back as model instances through
``fetch``, which applies the fields' conversions as the ORM does, without the per-query work
of ``Manager.raw`` (it reads the cursor's description and matches columns to fields on every
query, which cost more than the query).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, Field, Model
from django.utils import timezone

from teams.models import TeamVersion

from ..engine.events import USAGE
from ..models import Run, RunEvent
from .config import stale_after_s

M = TypeVar("M", bound=Model)


def writer(model: type[Model]) -> Any:
    return connections[router.db_for_write(model)]


# Names are quoted once per process: they depend only on the model and the one database in use.
@functools.cache
def column(model: type[Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name``."""
    connection = writer(model)
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


@functools.cache
def table(model: type[Model]) -> str:
    return str(writer(model).ops.quote_name(model._meta.db_table))


def values_in(field: Field[Any, Any], values: Iterable[Any]) -> tuple[str, list[Any]]:
    """``IN`` placeholders for ``values`` of ``field``, and the values as the database takes
    them. An empty list gives ``(NULL)``, which matches nothing."""
    connection = writer(field.model)
    params = [field.get_db_prep_value(value, connection) for value in values]
    return ", ".join(["%s"] * len(params)) or "NULL", params


def select_in(model: type[M], field: str, values: Iterable[Any]) -> list[M]:
    """The rows of ``model`` whose ``field`` is one of ``values``."""
    placeholders, params = values_in(model._meta.get_field(field), values)
    statement = f"SELECT {columns(model)} FROM {table(model)} WHERE {column(model, field)} IN ({placeholders})"  # noqa: S608
    return fetch(model, statement, params)


@functools.cache
def columns(model: type[Model], alias: str = "") -> str:
    """The columns of ``model``'s fields, in the order ``fetch`` reads them."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + column(model, f.name) for f in model._meta.concrete_fields)


def record(model: type[Model], names: Iterable[str]) -> str:
    """``name type, ...`` for ``model``'s fields ``names``: the columns of a JSON record as
    PostgreSQL's ``jsonb_to_recordset`` reads it, each typed as the field's own column."""
    connection = writer(model)
    return ", ".join(f"{name} {model._meta.get_field(name).db_type(connection)}" for name in names)


def fetch(
    model: type[M], statement: str, params: Sequence[Any], extra: Sequence[str] = ()
) -> list[M]:
    """Instances of ``model`` from ``statement``, which selects ``columns(model)`` and then
    a column for each attribute named in ``extra``, set as it comes."""
    connection = writer(model)
    names, conversions = _loading(model, connection.alias)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    instances = []
    for row in rows:
        values = list(row[: len(names)])
        for index, expression, converters in conversions:
            for convert in converters:
                values[index] = convert(values[index], expression, connection)
        instance = model.from_db(connection.alias, names, values)
        for name, value in zip(extra, row[len(names) :], strict=True):
            setattr(instance, name, value)
        instances.append(instance)
    return instances


@functools.cache
def _loading(model: type[Model], alias: str) -> tuple[list[str], list[tuple[int, Any, list[Any]]]]:
    """The attribute names of ``model``'s columns, and for those whose value the database
    gives in another form, the converters the ORM would apply (backend's, then field's)."""
    connection = connections[alias]
    names, conversions = [], []
    for index, field in enumerate(model._meta.concrete_fields):
        names.append(field.attname)
        expression = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        if converters:
            conversions.append((index, expression, converters))
    return names, conversions


def datetime_param(model: type[Model], value: Any) -> Any:
    return writer(model).ops.adapt_datetimefield_value(value)


def save_params(model: type[Model], values: dict[str, Any]) -> list[Any]:
    """The values of ``model``'s fields by name, prepared for saving."""
    connection = writer(model)
    return [
        model._meta.get_field(name).get_db_prep_save(v, connection) for name, v in values.items()
    ]


def execute(model: type[Model], statement: str, params: Sequence[Any]) -> int:
    """Run ``statement`` on ``model``'s database; the number of rows it changed."""
    with writer(model).cursor() as cursor:
        cursor.execute(statement, params)
        return int(cursor.rowcount)


# --- events and the runs' totals -----------------------------------------------------


Totals = dict[str, Any]  # input_tokens, output_tokens, cost_usd: the run's new values

Batch = tuple[Any, Sequence[RunEvent], Totals | None]


def usage_totals(rows: Sequence[RunEvent]) -> dict[str, Any]:
    """The increments ``usage`` events add to the run's token and cost totals."""
    usage = [row.payload for row in rows if row.type == USAGE]
    return {
        "input_tokens": sum(int(p.get("input_tokens") or 0) for p in usage),
        "output_tokens": sum(int(p.get("output_tokens") or 0) for p in usage),
        "cost_usd": sum(Decimal(str(p.get("cost_usd") or 0)) for p in usage),
    }


def store_events(run_id: Any, rows: Sequence[RunEvent]) -> bool:
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


def store_many(batches: Sequence[Batch], *, apart: bool = True) -> list[Exception | None]:
    """The events of several runs and their new totals, atomically: with PostgreSQL in one
    statement, otherwise one INSERT and one UPDATE in a transaction. If that fails on a
    constraint, each run is stored on its own so only the run at fault (one whose events
    another executor wrote) gets the error.

    ``apart=False`` is for a caller whose own transaction a failure is to roll back whole
    (``finishes.finish``): no savepoint around the statement, and its error is raised."""
    if not batches:
        return []  # no statement for nothing (a round of runs that ended with no tail)
    rows = [row for _, rows, _ in batches for row in rows]
    if not apart:
        _store_together(rows, batches, savepoint=False)
        return [None] * len(batches)
    try:
        _store_together(rows, batches, savepoint=True)
        return [None] * len(batches)
    except IntegrityError as error:
        if len(batches) == 1:
            return [error]
    results: list[Exception | None] = []
    for batch in batches:
        results.extend(store_many([batch]))
    return results


def _store_together(rows: Sequence[RunEvent], batches: Sequence[Batch], *, savepoint: bool) -> None:
    """``rows`` and the totals of ``batches`` at once (``savepoint``: inside a caller's
    transaction, keep a failure from aborting it)."""
    if inserts_in_one_statement():
        store_in_one_statement(rows, batches, savepoint=savepoint)
    else:
        with transaction.atomic(savepoint=savepoint):
            insert_events(rows)
            save_totals(batches)


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
    names = ", ".join(column(RunEvent, name) for name in EVENT_COLUMNS)
    return f"INSERT INTO {table(RunEvent)} ({names})"


def stored(rows: Sequence[RunEvent], alias: str) -> None:
    """Mark ``rows`` as saved in the database ``alias``, as ``bulk_create`` would."""
    for row in rows:
        row._state.adding, row._state.db = False, alias


def store_in_one_statement(
    rows: Sequence[RunEvent], batches: Sequence[Batch], *, savepoint: bool = True
) -> None:
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
    # Inside a caller's transaction, a savepoint keeps a failed statement from aborting it
    # (unless the caller rolls it all back on a failure: then it is two statements for nothing).
    kept = savepoint and connection.in_atomic_block
    with transaction.atomic() if kept else contextlib.nullcontext(), connection.cursor() as cursor:
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
    run, pk = table(Run), column(Run, "id")
    names = [field.name for field in TOTALS_FIELDS]
    assignments = ", ".join(f"{column(Run, name)} = t.{name}" for name in names)
    update = (
        f"UPDATE {run} SET {assignments} FROM jsonb_to_recordset(%s::jsonb) "  # noqa: S608
        f"AS t(id uuid, {record(Run, names)}) WHERE {run}.{pk} = t.id"
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


# --- claiming and ending runs ----------------------------------------------------------


def take(run_ids: Sequence[str], executor: str) -> int:
    """The conditional update that claims runs: how many it took."""
    now = timezone.now()
    stale = now - timedelta(seconds=stale_after_s())
    ids, params = values_in(Run._meta.pk, run_ids)
    status, claimed_by, heartbeat, started, pk = (
        column(Run, name) for name in ("status", "claimed_by", "heartbeat_at", "started_at", "id")
    )
    statement = (
        f"UPDATE {table(Run)} SET {status} = %s, {claimed_by} = %s, {heartbeat} = %s, "  # noqa: S608 - names from the model
        f"{started} = COALESCE({started}, %s) WHERE {pk} IN ({ids}) "
        f"AND ({status} = %s OR ({status} = %s AND {heartbeat} < %s))"
    )
    at, before = datetime_param(Run, now), datetime_param(Run, stale)
    running, queued = str(Run.Status.RUNNING), str(Run.Status.QUEUED)
    return execute(Run, statement, [running, executor, at, at, *params, queued, running, before])


def taken(run_ids: Sequence[str], executor: str) -> list[Run]:
    """The runs ``executor`` holds among ``run_ids``, each with its team version's number
    and whether it has recorded events (``ran_before``), in one statement."""
    ids, params = values_in(Run._meta.pk, run_ids)
    pk, version, claimed_by = (column(Run, n) for n in ("id", "team_version", "claimed_by"))
    number, event_run = column(TeamVersion, "number"), column(RunEvent, "run")
    statement = (
        f"SELECT {columns(Run, 'r')}, v.{number}, EXISTS (SELECT 1 FROM "  # noqa: S608
        f"{table(RunEvent)} e WHERE e.{event_run} = r.{pk}) "
        f"FROM {table(Run)} r LEFT JOIN {table(TeamVersion)} v "
        f"ON v.{column(TeamVersion, 'id')} = r.{version} "
        f"WHERE r.{pk} IN ({ids}) AND r.{claimed_by} = %s"
    )
    runs = fetch(Run, statement, [*params, executor], ["version_number", "ran_before"])
    for run in runs:
        if run.team_version_id is not None:  # the number is all a summary reads of it
            partial = TeamVersion.from_db(
                run._state.db, ["id", "number"], [run.team_version_id, run.version_number]
            )  # type: ignore[attr-defined]
            Run.team_version.field.set_cached_value(run, partial)
    return runs


def record_ends(ends: Sequence[tuple[Run, str, dict[str, Any]]]) -> set[str]:
    """Write each run's ``fields`` if its executor still holds it; the ids of those written.
    With PostgreSQL one statement for the runs that end alike (those that wait set fewer
    fields), instead of one per run."""
    if writer(Run).vendor != "postgresql":
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
        with writer(Run).cursor() as cursor:
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
    runs, pk, claimed_by = table(Run), column(Run, "id"), column(Run, "claimed_by")
    assignments = ", ".join(f"{column(Run, name)} = t.{name}" for name in names)
    return (
        f"UPDATE {runs} SET {assignments} "  # noqa: S608 - names from the model
        f"FROM jsonb_to_recordset(%s::jsonb) AS t(id uuid, executor text, {record(Run, names)}) "
        f"WHERE {runs}.{pk} = t.id AND {runs}.{claimed_by} = t.executor "
        f"RETURNING {runs}.{pk}"
    )


def record_end(run: Run, executor: str, fields: dict[str, Any]) -> bool:
    """Write ``fields`` to the run if ``executor`` still holds it."""
    assignments = ", ".join(f"{column(Run, name)} = %s" for name in fields)
    pk, claimed_by = column(Run, "id"), column(Run, "claimed_by")
    statement = f"UPDATE {table(Run)} SET {assignments} WHERE {pk} = %s AND {claimed_by} = %s"  # noqa: S608
    _, (run_id,) = values_in(Run._meta.pk, [run.id])
    return bool(execute(Run, statement, [*save_params(Run, fields), run_id, executor]))
