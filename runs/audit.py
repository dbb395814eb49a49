"""The audit trail: verifying a run's hash chain and exporting its events."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from .engine.events import canonical_json, chain_hash
from .models import Run, RunEvent
from .sink import GENESIS_HASH

CSV_COLUMNS = ["seq", "ts", "type", "key", "agent", "span_id", "parent_span_id", "payload", "hash"]


def verify(run: Run) -> dict[str, Any]:
    """Walk the chain from the first event: ``{"ok": True, "events": N}``, or the first
    event whose number, hash or link does not hold."""
    previous = GENESIS_HASH
    count = 0
    for count, event in enumerate(_events(run), start=1):
        reason = None
        if event.seq != count:
            reason = f"Expected event {count} here but found {event.seq}: events are missing."
        elif chain_hash(previous, event.hashed_fields()) != event.hash:
            reason = (
                "The event's content does not match its hash: it was changed after it was written."
            )
        if reason:
            return {"ok": False, "events": _count(run), "first_bad_seq": count, "reason": reason}
        previous = event.hash
    return {"ok": True, "events": count}


def _events(run: Run) -> Iterator[RunEvent]:
    return RunEvent.objects.filter(run=run).order_by("seq").iterator(chunk_size=2000)


def _count(run: Run) -> int:
    return RunEvent.objects.filter(run=run).count()


def jsonl_lines(run: Run) -> Iterator[str]:
    """One event per line, exactly the fields the chain hashes, plus the hash."""
    for event in _events(run):
        yield canonical_json(event.to_dict()) + "\n"


def csv_lines(run: Run) -> Iterator[str]:
    """A spreadsheet-friendly export; the payload is a JSON column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(CSV_COLUMNS)
    yield flush()
    for event in _events(run):
        row = event.to_dict()
        row["payload"] = json.dumps(row["payload"], ensure_ascii=False, sort_keys=True)
        writer.writerow(["" if row[c] is None else row[c] for c in CSV_COLUMNS])
        yield flush()
