"""The monthly close template, run end to end on the offline model: its totals are the ones
SQL computes from the sample ledger, and the unmatched items are the planted ones."""

import sqlite3

from runs.engine.tools.paths import shipped

from .conftest import run_template

# Differences planted in the sample month (documented with the sample data).
PLANTED_LEDGER_ONLY = {"CHQ-1042", "RCPT-0916"}
PLANTED_BANK_ONLY = {"DD-SLACK-1018", "FEE-2610", "INT-2610"}


def october_figures() -> dict[str, float]:
    """The month's figures, computed here from the sample ledger itself."""
    connection = sqlite3.connect(":memory:")
    connection.executescript(shipped("datasets", ".sql")["ledger"].read_text())
    lines = "FROM journal_lines l JOIN journal_entries e ON e.id = l.entry_id JOIN accounts a ON a.code = l.account_code WHERE e.date LIKE '2026-10-%' AND e.reference NOT LIKE 'OB-%'"
    revenue, expenses = connection.execute(
        "SELECT SUM(CASE WHEN a.type = 'revenue' THEN l.credit_cents - l.debit_cents ELSE 0 END),"
        f" SUM(CASE WHEN a.type = 'expense' THEN l.debit_cents - l.credit_cents ELSE 0 END) {lines}"
    ).fetchone()
    return {"revenue": revenue / 100, "expenses": expenses / 100}


async def test_the_close_totals_equal_the_ledgers() -> None:
    run = await run_template("monthly-close")

    assert run.outcome.status == "succeeded", run.outcome.reason
    close = run.outcome.output
    expected = october_figures()
    assert close["revenue"] == expected["revenue"]
    assert close["expenses"] == expected["expenses"]
    assert close["net_income"] == round(expected["revenue"] - expected["expenses"], 2)
    assert close["period"] == "2026-10"
    assert close["totals_agree"] is True


async def test_the_unmatched_items_are_the_planted_ones() -> None:
    run = await run_template("monthly-close")

    close = run.outcome.output
    assert {t["reference"] for t in close["unmatched_ledger"]} == PLANTED_LEDGER_ONLY
    assert {t["reference"] for t in close["unmatched_bank"]} == PLANTED_BANK_ONLY
    assert close["reconciled"] is False


async def test_the_chart_is_saved_and_charts_the_same_expenses() -> None:
    run = await run_template("monthly-close")

    charts = [e for e in run.of_type("tool.result") if e.payload["tool"] == "make_chart"]
    assert len(charts) == 1 and charts[0].payload["ok"]
    assert (
        round(charts[0].payload["result"]["totals"]["Expenses"], 2)
        == (october_figures()["expenses"])
    )
    (png,) = run.artifacts.files.values()
    assert png.startswith(b"\x89PNG")
    assert run.outcome.output["artifact"]["name"].endswith(".png")
