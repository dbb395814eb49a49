"""The few statements an executor makes for every run it starts and ends, written as SQL.

Django's query compiler spends about half a millisecond of CPU on even a one-line filter
(benchmarks/claims.py), more than the database takes to answer it; a worker starting and
ending dozens of runs a second, on the one core its process can use, spent more CPU
compiling these statements than executing the runs. They are written here once, from the
models' own table and column names, in SQL that PostgreSQL and SQLite both accept; rows come
back as model instances through ``fetch``, which applies the fields' conversions as the ORM
does, without the per-query work of ``Manager.raw`` (it reads the cursor's description and
matches columns to fields on every query, which cost more than the query).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Field, Model

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
