"""sql_query answers read-only SQL on a named dataset; the database connection itself refuses
writes, ATTACH, pragmas and dangerous functions, and a name is never a path."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.datasets import database_path


async def query(context: ToolContext, sql: str, dataset: str = "ledger"):
    return await builtin_registry().call("sql_query", {"dataset": dataset, "query": sql}, context)


async def test_it_answers_a_select_on_the_sample_ledger(context: ToolContext) -> None:
    result = await query(context, "SELECT ROUND(SUM(debit), 2), ROUND(SUM(credit), 2) FROM ledger")
    assert result.ok, result.error
    debit, credit = result.result["rows"][0]
    assert debit == credit > 0  # the books balance


async def test_an_empty_query_lists_tables_and_columns(context: ToolContext) -> None:
    result = await query(context, "")
    assert result.ok
    assert result.result["tables"]["accounts"] == ["code", "name", "type"]
    assert "bank_transactions" in result.result["tables"]


async def test_the_accounts_dataset_shows_the_double_charge(context: ToolContext) -> None:
    result = await query(
        context,
        "SELECT invoice_id, COUNT(*) FROM payments WHERE outcome = 'succeeded' "
        "GROUP BY invoice_id HAVING COUNT(*) > 1",
        dataset="accounts",
    )
    assert result.ok
    assert result.result["rows"] == [["INV-9303", 2]]


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM accounts",
        "UPDATE accounts SET name = 'x'",
        "INSERT INTO accounts VALUES ('9', 'x', 'asset')",
        "DROP TABLE accounts",
        "CREATE TEMP TABLE scratch (x)",
        "ATTACH DATABASE '/tmp/elsewhere.db' AS elsewhere",
        "PRAGMA writable_schema = ON",
        "SELECT load_extension('/tmp/evil')",
        "VACUUM INTO '/tmp/copy.db'",
    ],
)
async def test_it_refuses_sql_that_writes_or_escapes(sql: str, context: ToolContext) -> None:
    result = await query(context, sql)
    assert not result.ok
    assert "Refused" in result.error or "read-only" in result.error
    path = database_path("ledger", context.settings)
    with sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True) as db:
        assert db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0] == 19  # nothing lost
    assert not Path("/tmp/elsewhere.db").exists() and not Path("/tmp/copy.db").exists()


async def test_a_second_statement_is_refused(context: ToolContext) -> None:
    result = await query(context, "SELECT 1; DROP TABLE accounts")
    assert not result.ok
    assert "one SQL statement" in result.error


@pytest.mark.parametrize("dataset", ["../../etc/passwd", "/etc/passwd", "ledger.sql", "LEDGER"])
async def test_a_dataset_is_a_name_never_a_path(dataset: str, context: ToolContext) -> None:
    result = await query(context, "SELECT 1", dataset=dataset)
    assert not result.ok
    assert "There is no dataset named" in result.error and "accounts, ledger" in result.error


async def test_a_runaway_query_is_stopped(context: ToolContext) -> None:
    context.settings["sql_timeout_s"] = 0.2
    result = await query(
        context,
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT COUNT(*) FROM n",
    )
    assert not result.ok
    assert "was stopped" in result.error


async def test_rows_are_capped(context: ToolContext) -> None:
    result = await builtin_registry().call(
        "sql_query", {"query": "SELECT * FROM journal_lines", "max_rows": 5}, context
    )
    assert result.ok
    assert result.result["row_count"] == 5 and result.result["truncated"] is True


async def test_a_syntax_error_says_how_to_recover(context: ToolContext) -> None:
    result = await query(context, "SELEC * FROM accounts")
    assert not result.ok
    assert "syntax error" in result.error and "empty query" in result.error
