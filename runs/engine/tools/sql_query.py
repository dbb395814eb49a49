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
        rows = cursor.fetchmany(args.max_rows + 1)
    except (sqlite3.Warning, sqlite3.ProgrammingError) as exc:  # more than one statement
        raise ToolFailure(f"Send one SQL statement at a time: {exc}") from exc
    except sqlite3.DatabaseError as exc:
        raise ToolFailure(_explain(exc, limit_s)) from exc
    columns = [d[0] for d in cursor.description or ()]
    return {
        "dataset": args.dataset,
        "columns": columns,
        "rows": [list(r) for r in rows[: args.max_rows]],
        "row_count": min(len(rows), args.max_rows),
        "truncated": len(rows) > args.max_rows,
    }


def _explain(exc: sqlite3.DatabaseError, limit_s: float) -> str:
    message = str(exc)
    if "not authorized" in message or "authorization denied" in message or "readonly" in message:
        return (
            "Refused: this dataset is read-only and only SELECT queries on its own tables are "
            f"allowed ({message})."
        )
    if "interrupted" in message:
        return f"The query ran longer than {limit_s:g} s and was stopped; narrow it."
    return f"The query failed: {message}. Send an empty query to see the tables and columns."
