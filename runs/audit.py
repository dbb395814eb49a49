"""The audit trail: verifying a run's hash chain against its signed head, and exporting its
events with that head."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from . import heads
from .chain import GENESIS_HASH
from .engine.events import canonical_json, chain_hash
from .models import Run, RunEvent

CSV_COLUMNS = ["seq", "ts", "type", "key", "agent", "span_id", "parent_span_id", "payload", "hash"]

#: The ``type`` of the CSV export's last row, whose ``payload`` is the signed head.
CSV_HEAD_TYPE = "signed_head"

#: Runs an executor may still be writing: events after their signed head are expected.
EXECUTING = (Run.Status.QUEUED, Run.Status.RUNNING)


def verify(run: Run) -> dict[str, Any]:
    """Walk the chain from the first event, then check it against the run's signed head.

    ``ok`` is False with the first event whose number, hash or link does not hold
    (``first_bad_seq``), or with a head that is missing, forged, or does not match the
    events (rewritten and re-hashed, or cut short); ``reason`` says which in a sentence.
    ``signed_seq`` is how many events the signature vouches for; ``note`` explains events
    not signed yet because the run is still executing. An archived run's events are read
    from its archive file (``verify_archived``)."""
    if run.is_archived:
        return verify_archived(run)
    result = _verify(run)
    if not result["ok"] and _stored(run)[0] != result["head"]:
        # The run moved on while it was read (an answer appended and signed): read it again.
        result = _verify(run)
    return result


def _verify(run: Run, events: Iterable[RunEvent] | None = None) -> dict[str, Any]:
    signed, status = _stored(run)
    previous, count, hash_at_head = GENESIS_HASH, 0, None
    head_seq = signed.get("seq") if isinstance(signed, dict) else None
    for count, event in enumerate(_events(run) if events is None else events, start=1):
        reason = None
        if event.seq != count:
            reason = f"Expected event {count} here but found {event.seq}: events are missing."
        elif chain_hash(previous, event.hashed_fields()) != event.hash:
            reason = (
                "The event's content does not match its hash: it was changed after it was written."
            )
        if reason:
            return {
                "ok": False,
                "events": _count(run) if events is None else count,
                "first_bad_seq": count,
                "reason": reason,
                "head": signed,
                "signed_seq": None,
            }
        previous = event.hash
        if count == head_seq:
            hash_at_head = event.hash
    if head_seq == 0:
        hash_at_head = GENESIS_HASH
    return _against_head(run, signed, status, count, hash_at_head)


def verify_archived(run: Run) -> dict[str, Any]:
    """``verify`` of an archived run (``runs.archive``): its file, which must be the one
    written when it was archived (same sha256), event by event against the signed head the
    database keeps."""
    try:
        data = run.archive_file().read_bytes()
    except (ValueError, OSError) as error:
        return _unreadable(run, f"Its archive cannot be read: {error}.")
    if hashlib.sha256(data).hexdigest() != run.archive_sha256:
        return _unreadable(run, "Its archive file is not the one written then: it was changed.")
    try:
        lines = [json.loads(line) for line in data.decode().splitlines()]
        events = [_archived_event(run, line) for line in lines[:-1]]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        return _unreadable(run, f"Its archive is not in the audit export's format ({error}).")
    result = _verify(run, events)
    if result["ok"] and lines[-1] != {"signed_head": run.audit_head}:
        return _broken(result, "The signed head in the run's archive is not the one kept.")
    return result


def _archived_event(run: Run, line: dict[str, Any]) -> RunEvent:
    """An event of an archive line, as it was stored (never saved again)."""
    return RunEvent(
        run=run,
        seq=line["seq"],
        ts=datetime.fromisoformat(line["ts"]),
        type=line["type"],
        key=line["key"],
        agent=line["agent"] or "",
        span_id=line["span_id"] or "",
        parent_span_id=line["parent_span_id"] or "",
        payload=line["payload"],
        hash=line["hash"],
    )


def _unreadable(run: Run, reason: str) -> dict[str, Any]:
    result = {"ok": True, "events": 0, "head": run.audit_head, "signed_seq": None}
    return _broken(result, f"The run is archived. {reason}")


def _against_head(
    run: Run, head: Any, status: str, count: int, hash_at_head: str | None
) -> dict[str, Any]:
    """The result for an intact chain of ``count`` events, checked against ``head``."""
    result: dict[str, Any] = {"ok": True, "events": count, "head": head, "signed_seq": None}
    executing = status in EXECUTING
    if head is None:
        if count and not executing:
            return _broken(result, unsigned(count))
        if count:
            result["note"] = (
                "No signed head yet: the run's head is signed when it stops executing, so "
                f"none of its {count} events is vouched for by a signature until then."
            )
        return result
    problem = heads.problem(head, run.pk)
    if problem:
        return _broken(result, problem)
    seq, when = head["seq"], head["signed_at"]
    if count < seq:
        return _broken(
            result,
            f"Events {count + 1} to {seq} are missing: the run's head signed at {when} "
            f"says it had {seq} events, and only {count} are stored. The last events were "
            "deleted after the run stopped.",
            first_bad_seq=count + 1,
        )
    if hash_at_head != head["hash"]:
        return _broken(
            result,
            f"The events were rewritten: the hash of event {seq} is not the one signed at "
            f"{when}, so events up to {seq} were changed and their hashes recomputed after "
            "the run stopped.",
        )
    result["signed_seq"] = seq
    if count > seq and not executing:
        return _broken(
            result,
            f"Events {seq + 1} to {count} were added after the run's head was signed at "
            f"{when}, and no signature vouches for them: they were not written by the run.",
            first_bad_seq=seq + 1,
        )
    if count > seq:
        result["note"] = (
            f"Events 1 to {seq} are vouched for by the head signed at {when}; the run is "
            f"still executing, and events {seq + 1} to {count} will be when it stops."
        )
    return result


def unsigned(count: int) -> str:
    return (
        f"No signed head: nothing vouches that these {count} events are all the run "
        "recorded, or that they were not rewritten with new hashes. Every run gets one when "
        "it stops executing, and the upgrade that introduced them signed the runs before it; "
        "this run's was removed, or it ended on a worker that did not sign heads yet (the "
        "operator can sign its current state with `manage.py sign_audit_heads`)."
    )


def _broken(
    result: dict[str, Any], reason: str, first_bad_seq: int | None = None
) -> dict[str, Any]:
    return result | {
        "ok": False,
        "signed_seq": None,
        "first_bad_seq": first_bad_seq,
        "reason": reason,
    }


def _events(run: Run) -> Iterator[RunEvent]:
    return RunEvent.objects.filter(run=run).order_by("seq").iterator(chunk_size=2000)


def _count(run: Run) -> int:
    return RunEvent.objects.filter(run=run).count()


def _stored(run: Run) -> tuple[Any, str]:
    """The run's signed head and status as stored now: read before its events are, so a run
    that stops meanwhile has events after its head rather than a head past its events."""
    stored = Run.objects.filter(pk=run.pk).values_list("audit_head", "status").first()
    return stored if stored else (None, run.status)


def jsonl_lines(run: Run) -> Iterator[str]:
    """One event per line, exactly the fields the chain hashes, plus the hash; then a last
    line ``{"signed_head": {...}}`` (null for a run not signed yet)."""
    head, _ = _stored(run)
    for event in _events(run):
        yield canonical_json(event.to_dict()) + "\n"
    yield canonical_json({"signed_head": head}) + "\n"


def csv_lines(run: Run) -> Iterator[str]:
    """A spreadsheet-friendly export; the payload is a JSON column. The last row's type is
    ``signed_head`` and its payload the signed head (``null`` for a run not signed yet)."""
    head, _ = _stored(run)
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
    last = {"type": CSV_HEAD_TYPE, "payload": canonical_json(head)}
    writer.writerow([last.get(c, "") for c in CSV_COLUMNS])
    yield flush()
