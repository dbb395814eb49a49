"""The few statements an executor makes for every run it starts and ends, written as SQL.

Django's query compiler spends about half a millisecond of CPU on even a one-line filter
(benchmarks/claims.py), more than the database takes to answer it; a worker starting and
ending dozens of runs a second, on the one core its process can use, spent more CPU
compiling these statements than executing the runs. They are written here once, from the
models' own table and column names, in SQL that PostgreSQL and SQLite both accept; rows come
back as model instances through ``Manager.raw``, which applies the fields' conversions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


def writer(model: type[Model]) -> Any:
    return connections[router.db_for_write(model)]


def column(model: type[Model], name: str) -> str:
    """The quoted column of ``model``'s field ``name``."""
    connection = writer(model)
    return str(connection.ops.quote_name(model._meta.get_field(name).column))


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
    statement = f"SELECT * FROM {table(model)} WHERE {column(model, field)} IN ({placeholders})"  # noqa: S608
    return list(model._default_manager.raw(statement, params))


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
