"""``sql_query``: read-only SQL on a dataset the team names."""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from pydantic import BaseModel, Field

from ..interfaces import ToolContext
from .builtin_tools import registry
from .datasets import connect_read_only, database_path, describe
from .registry import ToolFailure

MAX_ROWS = 500
MAX_RESULT_CHARS = 200_000  # rows are fetched until their text passes this, then cut
QUERY_TIMEOUT_S = 10.0


class SqlQueryArgs(BaseModel):
    dataset: str = Field(
        "ledger",
        max_length=64,
        description="Dataset name: 'ledger' (company ledger), 'accounts' (customer accounts).",
    )
    query: str = Field(
        "",
        max_length=20_000,
        description="One read-only SQL statement (SQLite). Leave empty to list tables and columns.",
    )
    max_rows: int = Field(200, ge=1, le=MAX_ROWS)


@registry.tool(
    "sql_query",
    "Run a read-only SQL query (SQLite dialect) on a named dataset and get columns and rows. "
    "An empty query lists the dataset's tables and columns. Writes are refused.",
    timeout_s=QUERY_TIMEOUT_S + 5,
    in_pool=True,
)
def sql_query(args: SqlQueryArgs, context: ToolContext) -> dict[str, Any]:
    path = database_path(args.dataset, context.settings)
    limit_s = float(context.settings.get("sql_timeout_s", QUERY_TIMEOUT_S))
    connection = connect_read_only(path, time.monotonic() + limit_s)
    try:
        if not args.query.strip():
            return {"dataset": args.dataset, "tables": describe(connection)}
        return _run(connection, args, limit_s)
    finally:
        connection.close()


def _run(connection: sqlite3.Connection, args: SqlQueryArgs, limit_s: float) -> dict[str, Any]:
    try:
        cursor = connection.execute(args.query)
        rows, truncated = _fetch(cursor, args.max_rows)
    except (sqlite3.Warning, sqlite3.ProgrammingError) as exc:  # more than one statement
        raise ToolFailure(f"Send one SQL statement at a time: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise ToolFailure(_explain(exc, limit_s)) from exc
    columns = [d[0] for d in cursor.description or ()]
    return {
        "dataset": args.dataset,
        "columns": columns,
        "rows": rows,
        "row_count": len(rows),
        "truncated": truncated,
    }


def _fetch(cursor: sqlite3.Cursor, max_rows: int) -> tuple[list[list[Any]], bool]:
    """Up to ``max_rows`` rows, fewer when their text passes ``MAX_RESULT_CHARS``."""
    rows: list[list[Any]] = []
    size = 0
    for row in cursor:
        size += sum(len(v) if isinstance(v, str | bytes) else 8 for v in row)
        if len(rows) == max_rows or size > MAX_RESULT_CHARS:
            return rows, True
        rows.append([f"<{len(v)} bytes>" if isinstance(v, bytes) else v for v in row])
    return rows, False


def _explain(exc: sqlite3.DatabaseError, limit_s: float) -> str:
    message = str(exc)
    if "not authorized" in message or "authorization denied" in message or "readonly" in message:
        return (
            "Refused: this dataset is read-only and only SELECT queries on its own tables are "
            f"allowed ({message})."
        )
    if "interrupted" in message:
        return f"The query ran longer than {limit_s:g} s and was stopped; narrow it."
    if "too big" in message or "too large" in message or "too many" in message:
        return (
            f"The query was refused: {message}. Values are limited to 1,000,000 characters "
            "or bytes; select less at a time."
        )
    return f"The query failed: {message}. Send an empty query to see the tables and columns."
