"""``reconcile``: match ledger bank-account movements against a bank statement.

Two passes, so an early greedy choice cannot steal a later item's partner: first pairs that
agree on reference and amount within the date window, then pairs that agree on amount, closest
date first. Whatever is left on either side is what an accountant must look at (outstanding
cheques, deposits in transit, bank fees nobody booked).
"""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from ..interfaces import ToolContext
from .builtin_tools import registry
from .datasets import connect_read_only, database_path
from .paths import named, shipped
from .registry import ToolFailure

_PERIOD = r"^\d{4}-(0[1-9]|1[0-2])$"


class Transaction(BaseModel):
    date: date
    amount: Decimal = Field(description="Money in positive, money out negative.")
    reference: str = ""
    description: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "amount": float(self.amount),
                "reference": self.reference, "description": self.description}  # fmt: skip


class ReconcileArgs(BaseModel):
    statement: str = Field(
        "bank_statement_2026_10",
        max_length=64,
        description="Name of the bank statement (CSV: date, description, reference, amount).",
    )
    dataset: str = Field(
        "ledger", max_length=64, description="Dataset whose bank_transactions view is the ledger."
    )
    ledger_transactions: list[Transaction] | None = Field(
        None, max_length=5000, description="Ledger movements to use instead of the dataset's."
    )
    period: str | None = Field(None, pattern=_PERIOD, description="Only this month, YYYY-MM.")
    date_window_days: int = Field(3, ge=0, le=31, description="How far dates may differ.")


@registry.tool(
    "reconcile",
    "Match ledger bank-account transactions against a bank statement by amount, date window "
    "and reference. Returns matched pairs and both sides' unmatched items with totals.",
    timeout_s=20,
    in_pool=True,
)
def reconcile(args: ReconcileArgs, context: ToolContext) -> dict[str, Any]:
    ledger = args.ledger_transactions
    if ledger is None:
        ledger = _ledger_from_dataset(args.dataset, context.settings)
    bank = _statement(args.statement, context.settings)
    if args.period:
        ledger = [t for t in ledger if t.date.isoformat().startswith(args.period)]
        bank = [t for t in bank if t.date.isoformat().startswith(args.period)]
    pairs, left, right = match(ledger, bank, args.date_window_days)
    return _report(args, pairs, left, right)


def match(
    ledger: list[Transaction], bank: list[Transaction], window_days: int
) -> tuple[list[tuple[Transaction, Transaction, str]], list[Transaction], list[Transaction]]:
    unmatched_ledger = sorted(ledger, key=lambda t: t.date)
    unmatched_bank = sorted(bank, key=lambda t: t.date)
    pairs: list[tuple[Transaction, Transaction, str]] = []
    for by_reference in (True, False):
        for item in list(unmatched_bank):
            candidates = [
                t for t in unmatched_ledger
                if t.amount == item.amount and abs((t.date - item.date).days) <= window_days
                and (not by_reference or _same_reference(t.reference, item.reference))
            ]  # fmt: skip
            if not candidates:
                continue
            chosen = min(candidates, key=lambda t: abs((t.date - item.date).days))
            unmatched_ledger.remove(chosen)
            unmatched_bank.remove(item)
            pairs.append((chosen, item, _basis(chosen, item, by_reference)))
    pairs.sort(key=lambda p: p[0].date)
    return pairs, unmatched_ledger, unmatched_bank


def _same_reference(a: str, b: str) -> bool:
    return bool(a.strip()) and _normal(a) == _normal(b)


def _normal(reference: str) -> str:
    return re.sub(r"[^a-z0-9]", "", reference.lower())


def _basis(ledger: Transaction, bank: Transaction, by_reference: bool) -> str:
    days = (bank.date - ledger.date).days
    timing = "same date" if days == 0 else f"bank {days:+d} days"
    return f"{'reference, ' if by_reference else ''}amount, {timing}"


def _report(args: ReconcileArgs, pairs: list, left: list, right: list) -> dict[str, Any]:
    def total(items: list[Transaction]) -> float:
        return float(sum((t.amount for t in items), Decimal(0)))

    return {
        "statement": args.statement,
        "matched_count": len(pairs),
        "matched": [
            {"ledger": a.to_json(), "bank": b.to_json(), "basis": basis} for a, b, basis in pairs
        ],
        "unmatched_ledger": [t.to_json() for t in left],
        "unmatched_bank": [t.to_json() for t in right],
        "totals": {
            "matched": total([a for a, _, _ in pairs]),
            "unmatched_ledger": total(left),
            "unmatched_bank": total(right),
        },
        "reconciled": not left and not right,
    }


def _ledger_from_dataset(dataset: str, settings: dict[str, Any]) -> list[Transaction]:
    connection = connect_read_only(database_path(dataset, settings), time.monotonic() + 10)
    try:
        rows = connection.execute(
            "SELECT date, CAST(amount AS TEXT), reference, description FROM bank_transactions"
        ).fetchall()
    except Exception as exc:
        raise ToolFailure(
            f"The dataset {dataset!r} has no usable bank_transactions view ({exc}); pass "
            "ledger_transactions instead."
        ) from exc
    finally:
        connection.close()
    keys = ("date", "amount", "reference", "description")
    return [Transaction.model_validate(dict(zip(keys, row, strict=True))) for row in rows]


def _statement(name: str, settings: dict[str, Any]) -> list[Transaction]:
    path = named(
        "bank statement", name, shipped("statements", ".csv"), settings.get("statements") or {}
    )
    return parse_statement(Path(path).read_text(encoding="utf-8-sig"), name)


def parse_statement(text: str, name: str = "statement") -> list[Transaction]:
    reader = csv.DictReader(io.StringIO(text))
    missing = {"date", "amount"} - set(reader.fieldnames or ())
    if missing:
        raise ToolFailure(f"The statement {name} has no {', '.join(sorted(missing))} column.")
    lines = []
    for number, row in enumerate(reader, start=2):
        try:
            row["amount"] = str(Decimal((row.get("amount") or "").replace(",", "")))
            lines.append(Transaction.model_validate({k: v for k, v in row.items() if k}))
        except (InvalidOperation, ValidationError) as exc:
            raise ToolFailure(f"Line {number} of the statement {name} is not valid: {exc}") from exc
    return lines
