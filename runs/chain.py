"""The hash chain of a run's events: each event's row is numbered after the run's last one and
hashed over the previous hash and the event's canonical JSON (``chain_hash_json``), so the
audit trail verifies and any edit shows. Pure: it reads the database only in ``ChainHead.of``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

from .engine.events import Event, canonical_json, chain_hash_json
from .models import RunEvent

#: The "previous hash" of a run's first event.
GENESIS_HASH = "0" * 64


@dataclass
class ChainHead:
    """The last stored event of a run: where the next one attaches."""

    seq: int = 0
    hash: str = GENESIS_HASH

    @classmethod
    def of(cls, run_id: Any) -> ChainHead:
        last = RunEvent.objects.filter(run_id=run_id).order_by("-seq").only("seq", "hash").first()
        return cls(last.seq, last.hash) if last else cls()


#: Numbers whose JSON PostgreSQL's jsonb gives back differently: floats written with a
#: positive exponent (1e+16 comes back as 10000000000000000) and negative zero.
_REWRITTEN_NUMBER = re.compile(r"\de\+\d|-0\.0(?![0-9])")


def payload_json(payload: dict[str, Any]) -> str:
    """The payload's canonical JSON as it will read back from the database, so the hash
    verifies later: serialized once here, then stored, hashed and broadcast as it is.

    NUL characters are replaced because PostgreSQL's jsonb cannot hold them, as are numbers
    that are not finite (a model's ``NaN``, which Python reads and writes but jsonb refuses:
    the run could not record it and stayed running), which become the text ``"NaN"``,
    ``"Infinity"`` or ``"-Infinity"``; and the numbers jsonb would give back in another form
    are written in that form.
    """
    text = canonical_json(payload)
    if "\\u0000" in text or _REWRITTEN_NUMBER.search(text) or _maybe_not_finite(text):
        stored = json.loads(
            text.replace("\\u0000", "\\ufffd"), parse_float=_as_jsonb_reads, parse_constant=str
        )
        text = canonical_json(stored)
    return text


def _maybe_not_finite(text: str) -> bool:
    """Whether Python's JSON ``text`` may hold a number that is not finite (or only the words,
    inside a string: a cheap test, before the parse that tells them apart)."""
    return "NaN" in text or "Infinity" in text


def storable(value: Any) -> Any:
    """``value`` (a run's output, a reason) with each NUL character, which PostgreSQL can hold
    in neither text nor jsonb, replaced as in events, and each number that is not finite
    written as text: a model's answer with either in it made the run's end impossible to
    record, and the run stayed running."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)  # "NaN", "Infinity", "-Infinity": jsonb holds no such number
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=True, default=str)
        nul = "\\u0000" in text  # a NUL, or a backslash before the text u0000: tell them apart
        if nul or _maybe_not_finite(text):
            return json.loads(_ESCAPED_NUL.sub(r"\1\\ufffd", text), parse_constant=str)
    return value


#: A NUL in JSON text: ``\u0000`` after an even number of backslashes.
_ESCAPED_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")


def _as_jsonb_reads(literal: str) -> float | int:
    """A JSON number as it reads back from jsonb, which keeps numbers as decimals."""
    if "e+" in literal:
        return int(Decimal(literal))  # 1.5e+300: an integer of 301 digits, exactly
    number = float(literal)
    return 0.0 if number == 0 else number  # decimals have no negative zero


def chain(run_id: Any, head: ChainHead, events: Iterable[Event]) -> list[RunEvent]:
    """Rows for ``events``, numbered and hash-chained after ``head`` (which moves along).

    The event's canonical JSON (``canonical_json(row.hashed_fields())``) is written out
    member by member, sorted, from the payload's text: one encoder call per string instead
    of a dict built and serialized for each of the three forms an event takes (hashed,
    stored, broadcast). The stored and broadcast form is the same text with the hash
    inserted after ``agent``, the one member that sorts before it.
    """
    rows = []
    for event in events:
        text = payload_json(event.payload)
        seq, ts, key = head.seq + 1, datetime.fromtimestamp(event.ts, UTC), event.key[:300]
        agent, span_id, parent = event.agent or "", event.span_id or "", event.parent_span_id or ""
        first = f'{{"agent":{_json_text(agent)},'
        rest = (
            f'"key":{_json_string(key)},"parent_span_id":{_json_text(parent)},'
            f'"payload":{text},"seq":{seq},"span_id":{_json_text(span_id)},'
            f'"ts":{_json_string(ts.isoformat())},"type":{_json_string(event.type)}}}'
        )
        hash_ = chain_hash_json(head.hash, first + rest)
        row = RunEvent(
            None, run_id, seq, ts, event.type, key, agent, span_id, parent, json.loads(text), hash_
        )  # positional: half the cost of keywords, and the sink makes every row
        row.payload_json = text
        row.event_json = f'{first}"hash":"{hash_}",{rest}'
        head.seq, head.hash = seq, hash_
        rows.append(row)
    return rows


#: ``canonical_json`` of a string (the encoder it uses for strings, without the dispatch).
_json_string = encode_basestring


def _json_text(value: str) -> str:
    """A field stored as "" when absent, which the canonical form gives as null."""
    return encode_basestring(value) if value else "null"


# ``chain`` builds rows positionally, in this order.
assert [f.attname for f in RunEvent._meta.concrete_fields] == [
    "id", "run_id", "seq", "ts", "type", "key", "agent", "span_id", "parent_span_id",
    "payload", "hash",
]  # fmt: skip
