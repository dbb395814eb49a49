"""reconcile pairs ledger bank movements with statement lines and lists what is left on both
sides; the shipped month has planted differences an accountant must find."""

from __future__ import annotations

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.reconcile import Transaction, match, parse_statement


async def test_it_finds_the_planted_differences_in_the_sample_month(context: ToolContext) -> None:
    result = await builtin_registry().call("reconcile", {}, context)
    assert result.ok, result.error
    report = result.result
    assert {t["reference"] for t in report["unmatched_ledger"]} == {"CHQ-1042", "RCPT-0916"}
    assert {t["reference"] for t in report["unmatched_bank"]} == {
        "DD-SLACK-1018", "FEE-2610", "INT-2610",
    }  # fmt: skip
    assert report["reconciled"] is False
    # The supplier's own reference on the bank line still matches by amount and date.
    fastlane = next(m for m in report["matched"] if m["ledger"]["reference"] == "PAY-5503")
    assert fastlane["bank"]["reference"] == "FASTLANE 88412"
    assert fastlane["basis"] == "amount, same date"


async def test_totals_explain_the_difference_between_ledger_and_bank(context: ToolContext) -> None:
    ledger = await builtin_registry().call(
        "sql_query", {"query": "SELECT ROUND(SUM(amount), 2) FROM bank_transactions"}, context
    )
    report = (await builtin_registry().call("reconcile", {}, context)).result
    totals = report["totals"]
    assert round(totals["matched"] + totals["unmatched_ledger"], 2) == ledger.result["rows"][0][0]


def test_a_reference_match_wins_over_a_closer_date() -> None:
    # Two equal payments a week apart: the bank line dated between them belongs to the one
    # with its reference, even though the other is one day closer.
    ledger = [
        Transaction(date="2026-10-16", amount="-1200", reference="PAY-1"),
        Transaction(date="2026-10-20", amount="-1200", reference="PAY-2"),
    ]
    bank = [
        Transaction(date="2026-10-19", amount="-1200", reference="PAY-1"),
        Transaction(date="2026-10-21", amount="-1200", reference="PAY-2"),
    ]
    pairs, left, right = match(ledger, bank, window_days=3)
    assert [(a.reference, b.reference) for a, b, _ in pairs] == [
        ("PAY-1", "PAY-1"),
        ("PAY-2", "PAY-2"),
    ]
    assert left == right == []


def test_dates_outside_the_window_do_not_match() -> None:
    pairs, left, right = match(
        [Transaction(date="2026-10-01", amount="50")],
        [Transaction(date="2026-10-09", amount="50")],
        window_days=3,
    )
    assert pairs == [] and len(left) == len(right) == 1


async def test_a_statement_with_a_bad_amount_names_the_line(context: ToolContext, tmp_path) -> None:
    statement = tmp_path / "broken.csv"
    statement.write_text("date,description,reference,amount\n2026-10-01,Fee,F1,twelve\n")
    context.settings["statements"] = {"broken": str(statement)}
    result = await builtin_registry().call("reconcile", {"statement": "broken"}, context)
    assert not result.ok
    assert "Line 2 of the statement broken" in result.error


def test_a_statement_without_amounts_is_refused() -> None:
    try:
        parse_statement("date,description\n2026-10-01,x\n", "plain")
    except Exception as exc:
        assert "no amount column" in str(exc)
    else:
        raise AssertionError("a statement without amounts was accepted")


async def test_an_unknown_statement_lists_the_available_ones(context: ToolContext) -> None:
    result = await builtin_registry().call("reconcile", {"statement": "../secrets"}, context)
    assert not result.ok
    assert "bank_statement_2026_10" in result.error
