"""The watchers of a run on one web process share one subscriber (runs/fanout.py): each still
gets every event once and in order, a burst of messages goes out merged, and a watcher that
is busy catching up from the database holds up no other watcher."""

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from runs import consumers
from runs.actions import append
from runs.broadcast import delta_message, events_message, merged_events
from runs.chain import ChainHead, chain
from runs.models import Run
from runs.shell.store import store_events as store
from tests.factories import make_event, make_run
from tests.runs.test_run_websocket import seqs_until, watch

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run(alice: Any) -> Run:
    run = make_run(alice, status=Run.Status.RUNNING)
    with transaction.atomic():
        append(run, [make_event(key=f"e{n}") for n in range(5)])
    return run


def stored_quietly(run: Run, count: int) -> list[Any]:
    """``count`` more events stored, each broadcast left to the caller."""
    rows = chain(run.id, ChainHead.of(run.id), [make_event(key=f"q{n}") for n in range(count)])
    store(run.id, rows)
    return rows


def seqs(message: dict[str, Any]) -> list[int]:
    return [e["seq"] for e in json.loads(message["text"])["events"]]


def test_it_merges_events_messages_that_follow_on_and_keeps_the_rest_in_order(run: Run) -> None:
    rows = stored_quietly(run, 6)  # seqs 6..11
    one, two, three = (
        events_message(rows[0:2]),
        events_message(rows[2:3]),
        events_message(rows[3:4]),
    )
    after_a_gap = events_message(rows[5:6])
    delta = delta_message("writer", "s", "Hi")

    merged = merged_events([one, two, three, delta, after_a_gap], max_bytes=1024 * 1024)

    assert [m["type"] for m in merged] == ["run.events", "run.delta", "run.events"]
    assert seqs(merged[0]) == [6, 7, 8, 9]
    assert (merged[0]["first_seq"], merged[0]["last_seq"]) == (6, 9)
    assert json.loads(merged[0]["text"])["events"] == [r.to_dict() for r in rows[0:4]]
    assert seqs(merged[2]) == [11]  # 10 was never broadcast: not joined across the gap


def test_it_merges_no_further_than_the_largest_message(run: Run) -> None:
    rows = stored_quietly(run, 3)
    messages = [events_message([row]) for row in rows]
    limit = 4 * (len(messages[0]["text"]) + len(messages[1]["text"]))

    merged = merged_events(messages, max_bytes=limit)

    assert [seqs(m) for m in merged] == [[6, 7], [8]]


async def test_every_watcher_gets_a_burst_of_live_messages_once_and_in_order(
    run: Run, alice: Any
) -> None:
    sockets = [await watch(run, alice, after_seq=0) for _ in range(3)]
    for socket in sockets:
        assert await seqs_until(socket, 5) == [1, 2, 3, 4, 5]

    # Twenty events, each broadcast on its own, faster than they are handed out.
    rows = await sync_to_async(stored_quietly)(run, 20)
    layer = get_channel_layer()
    for row in rows:
        await layer.group_send(run.group_name, events_message([row]))

    for socket in sockets:
        assert await seqs_until(socket, 25) == list(range(6, 26))
        await socket.disconnect()


async def test_a_watcher_catching_up_from_the_database_holds_up_no_other(
    run: Run, alice: Any, monkeypatch: Any
) -> None:
    # The first watcher's catch-up from the database stalls until released.
    gate = asyncio.Event()
    events_after = consumers.events_after

    async def slow_from_the_start(run_id: str, after_seq: int, upto: int | None) -> Any:
        if after_seq == 0:
            await gate.wait()
        return await events_after(run_id, after_seq, upto)

    monkeypatch.setattr(consumers, "events_after", slow_from_the_start)
    stalled = await watch(run, alice, after_seq=0)
    current = await watch(run, alice, after_seq=5)
    assert await current.receive_nothing(timeout=0.2)

    rows = await sync_to_async(stored_quietly)(run, 1)
    await get_channel_layer().group_send(run.group_name, events_message(rows))

    # The current watcher has event 6 while the other still waits for the database ...
    assert await seqs_until(current, 6) == [6]
    assert await stalled.receive_nothing(timeout=0.1)
    # ... which then sends it everything, in order, once.
    gate.set()
    assert await seqs_until(stalled, 6) == [1, 2, 3, 4, 5, 6]
    assert await stalled.receive_nothing(timeout=0.2)
    for socket in (stalled, current):
        await socket.disconnect()


async def test_a_malformed_message_is_skipped_and_the_watchers_still_hear_the_run(
    run: Run, alice: Any, caplog: Any
) -> None:
    socket = await watch(run, alice, after_seq=0)
    assert await seqs_until(socket, 5) == [1, 2, 3, 4, 5]

    # Through the real layer: an events message without its seqs (a later version's, a bug's),
    # then the next events as usual.
    rows = await sync_to_async(stored_quietly)(run, 2)
    layer = get_channel_layer()
    malformed = events_message(rows[:1])
    del malformed["first_seq"]
    await layer.group_send(run.group_name, malformed)
    await layer.group_send(run.group_name, events_message(rows[:1]))
    await layer.group_send(run.group_name, events_message(rows[1:]))

    assert await seqs_until(socket, 7) == [6, 7]
    assert "Skipped a malformed message" in caplog.text
    await socket.disconnect()
