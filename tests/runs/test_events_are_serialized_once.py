"""The sink serializes each event once, and what it stores, hashes and broadcasts is exactly
what the audit check, the API and the websocket get from the stored event."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from runs.audit import jsonl_lines, verify
from runs.broadcast import events_in, events_message
from runs.chain import GENESIS_HASH, ChainHead, chain
from runs.engine.events import USAGE, Event, canonical_json, chain_hash
from runs.models import Run, RunEvent
from runs.shell.store import store_many
from tests.factories import make_run, make_user

TEXT = st.text(max_size=12) | st.sampled_from(["\x00", "a\x00b", "\\u0000", "\\\\u0000", "é😀"])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=5),
    max_leaves=20,
)
EVENTS = st.builds(
    Event,
    type=st.sampled_from(["message", "tool.call", "usage", "x.y"]),
    key=st.text(min_size=1, max_size=320),
    ts=st.floats(min_value=0, max_value=4e9),
    agent=st.none() | st.text(max_size=10),
    span_id=st.none() | st.text(max_size=10),
    parent_span_id=st.none() | st.text(max_size=10),
    payload=st.dictionaries(TEXT, ANY_JSON, max_size=6),
)


def as_stored(payload: dict[str, Any]) -> Any:
    """The payload as PostgreSQL's jsonb gives it back: NUL replaced, and every number a
    decimal (a float with no fraction past 1e16 is an integer, zero has no sign)."""
    text = canonical_json(payload).replace("\\u0000", "\\ufffd")
    return json.loads(text, parse_float=lambda literal: decimal_as_read(Decimal(literal)))


def decimal_as_read(number: Decimal) -> int | float:
    if number.as_tuple().exponent >= 0:  # type: ignore[operator]
        return int(number)
    return float(number) or 0.0


@settings(max_examples=300, deadline=None)
@given(st.lists(EVENTS, min_size=1, max_size=3))
def test_it_hashes_and_sends_what_the_audit_check_computes(events: list[Event]) -> None:
    rows = chain(uuid.uuid4(), ChainHead(), events)

    previous = GENESIS_HASH
    for row, event in zip(rows, events, strict=True):
        assert row.payload == as_stored(event.payload)
        assert row.hash == chain_hash(previous, row.hashed_fields())
        assert row.to_json() == canonical_json(row.to_dict())
        previous = row.hash


def test_the_websocket_gets_the_events_as_the_api_gives_them() -> None:
    events = [
        Event("message", "a", 1.5, "writer", None, None, {"text": "é 😀 \x00", "n": [1, 2.5]}),
        Event("tool.call", "b", 1700000000.123456, None, "s1", "s0", {}),
    ]
    rows = chain(uuid.uuid4(), ChainHead(), events)

    message = events_message(rows)

    assert (message["first_seq"], message["last_seq"]) == (1, 2)
    assert json.loads(message["text"]) == {
        "type": "events",
        "events": [row.to_dict() for row in rows],
    }
    assert events_in(message) == [row.to_dict() for row in rows]


AWKWARD_PAYLOADS: list[dict[str, Any]] = [
    {},
    {"content": "NUL \x00 inside", "literal": "\\u0000 typed out"},
    {"é": "😀", "nested": {"b": [1, {"a": None}], "a": True}, "big": 2**62, "f": 0.1},
    {"when": datetime(2025, 1, 2, tzinfo=UTC), "cost": Decimal("0.25")},  # not JSON: str'd
    # jsonb keeps numbers as decimals: these come back as 10000000000000000, an integer of
    # 301 digits and 0.0, so the sink must hash them in that form.
    {"huge": 1e16, "vast": 1.5e300, "negative_zero": -0.0, "tiny": 1e-7, "one": 1.0, "x": 2.5e15},
]


@pytest.mark.django_db
def test_stored_events_read_back_exactly_as_they_were_chained() -> None:
    run = make_run(make_user())
    events = [
        Event("message", f"k{n}", 1700000000 + n / 7, None if n % 2 else "writer", payload=p)
        for n, p in enumerate(AWKWARD_PAYLOADS)
    ]
    rows = chain(run.id, ChainHead(), events)

    assert store_many([(run.id, rows, None)]) == [None]

    stored = list(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [e.to_dict() for e in stored] == [r.to_dict() for r in rows]
    assert (verify(run)["ok"], verify(run)["events"]) == (True, len(events))
    # The export's last line is the run's signed head (none: nobody executed it).
    assert list(jsonl_lines(run)) == [r.to_json() + "\n" for r in rows] + ['{"signed_head":null}\n']
    assert json.loads(events_message(stored)["text"]) == json.loads(events_message(rows)["text"])


@pytest.mark.django_db
def test_a_large_batch_is_stored_whole() -> None:
    run = make_run(make_user())
    events = [Event("message", f"k{n}", 1700000000.0, payload={"n": n}) for n in range(1500)]

    assert store_many([(run.id, chain(run.id, ChainHead(), events), None)]) == [None]

    assert RunEvent.objects.filter(run=run).count() == 1500
    assert (verify(run)["ok"], verify(run)["events"]) == (True, 1500)


def usage(key: str) -> Event:
    payload = {"input_tokens": 10, "output_tokens": 5, "cost_usd": 0.01}
    return Event(USAGE, key, 1700000000.0, "writer", payload=payload)


@pytest.mark.django_db
def test_the_totals_of_several_runs_are_written_together() -> None:
    alice = make_user()
    one, two, three = make_run(alice), make_run(alice), make_run(alice)
    batches = [
        (one.id, chain(one.id, ChainHead(), [usage("u1")]), totals(11, 6, "0.5")),
        (two.id, chain(two.id, ChainHead(), [Event("message", "m", 1.0)]), None),
        (three.id, chain(three.id, ChainHead(), [usage("u1")]), totals(30, 20, "1.25")),
    ]

    assert store_many(batches) == [None, None, None]

    assert run_totals(one) == (11, 6, Decimal("0.5"))
    assert run_totals(two) == (0, 0, Decimal(0))
    assert run_totals(three) == (30, 20, Decimal("1.25"))


def totals(input_tokens: int, output_tokens: int, cost: str) -> dict[str, Any]:
    return {"input_tokens": input_tokens, "output_tokens": output_tokens, "cost_usd": Decimal(cost)}


def run_totals(run: Run) -> tuple[int, int, Decimal]:
    run.refresh_from_db()
    return run.input_tokens, run.output_tokens, run.cost_usd


@pytest.mark.django_db
@pytest.mark.parametrize("clash", ["seq", "key"])
def test_only_the_run_another_executor_wrote_fails(clash: str) -> None:
    alice = make_user()
    taken, free = make_run(alice), make_run(alice)
    # Another executor already stored event 1 (key "first") of the taken run.
    assert store_many([(taken.id, chain(taken.id, ChainHead(), [usage("first")]), None)]) == [None]
    head = ChainHead() if clash == "seq" else ChainHead.of(taken.id)
    late = chain(taken.id, head, [usage("first" if clash == "key" else "other")])

    results = store_many(
        [
            (taken.id, late, totals(99, 99, "9")),
            (free.id, chain(free.id, ChainHead(), [usage("u")]), totals(10, 5, "0.01")),
        ]
    )

    assert isinstance(results[0], IntegrityError) and results[1] is None
    assert RunEvent.objects.filter(run=taken).count() == 1
    assert run_totals(taken) == (0, 0, Decimal(0))
    assert RunEvent.objects.filter(run=free).count() == 1
    assert run_totals(free) == (10, 5, Decimal("0.01"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_and_its_runs_new_totals_are_one_statement_on_postgresql() -> None:
    alice = make_user()
    one, two = make_run(alice), make_run(alice)
    batches = [
        (one.id, chain(one.id, ChainHead(), [usage("u1"), usage("u2")]), totals(20, 10, "0.02")),
        (two.id, chain(two.id, ChainHead(), [usage("u1")]), totals(10, 5, "0.000001")),
    ]

    with CaptureQueriesContext(connection) as queries:
        assert store_many(batches) == [None, None]

    # One round trip, no BEGIN and COMMIT around it: and both runs' events and totals stored.
    assert len(queries) == 1
    assert RunEvent.objects.filter(run__in=[one, two]).count() == 3
    assert run_totals(one) == (20, 10, Decimal("0.02"))
    assert run_totals(two) == (10, 5, Decimal("0.000001"))
