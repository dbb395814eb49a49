"""The sink numbers events without gaps, chains their hashes, keeps each key once, never
stores token deltas, and broadcasts what it stored after the commit, coalesced."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from runs.audit import verify
from runs.broadcast import events_in
from runs.chain import ChainHead
from runs.models import Run, RunEvent
from runs.shell.sink import LostRun, RunSink
from runs.shell.store import store_events as store
from tests.factories import make_event, make_run, make_user

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def run() -> Run:
    return make_run(make_user())


async def listen(run: Run) -> tuple[Any, str]:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(run.group_name, channel)
    return layer, channel


async def received(layer: Any, channel: str, count: int) -> list[dict[str, Any]]:
    return [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(count)]


async def test_it_numbers_and_chains_events(run: Run) -> None:
    sink = RunSink(run, ChainHead())
    for n in range(5):
        await sink.emit(make_event("message", key=f"m{n}", payload={"content": f"hello {n}"}))
    await sink.close()

    rows = await sync_to_async(list)(RunEvent.objects.filter(run=run).order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert [r.payload["content"] for r in rows] == [f"hello {n}" for n in range(5)]
    result = await sync_to_async(verify)(run)
    assert (result["ok"], result["events"]) == (True, 5)  # its end signs the head, not the sink


async def test_it_stores_a_key_once(run: Run) -> None:
    sink = RunSink(run, ChainHead())
    await sink.emit(make_event("tool.call", key="a/turn1/call0"))
    await sink.emit(make_event("tool.call", key="a/turn1/call0"))
    await sink.close()
    assert await RunEvent.objects.filter(run=run).acount() == 1


async def test_it_continues_the_chain_of_a_resumed_run(run: Run) -> None:
    first = RunSink(run, ChainHead())
    await first.emit(make_event(key="one"))
    await first.close()

    # A new executor starts from what is stored, and knows its keys.
    head = await sync_to_async(ChainHead.of)(run.id)
    second = RunSink(run, head, known_keys=["one"])
    await second.emit(make_event(key="one"))
    await second.emit(make_event(key="two"))
    await second.close()

    keys = [k async for k in RunEvent.objects.filter(run=run).values_list("key", flat=True)]
    assert keys == ["one", "two"]
    assert (await sync_to_async(verify)(run))["ok"]


async def test_a_second_writer_is_stopped_not_forked(run: Run) -> None:
    # Two executors believe they hold the run; the database lets only one write seq 1.
    one, two = RunSink(run, ChainHead()), RunSink(run, ChainHead())
    await one.emit(make_event(key="from-one"))
    with pytest.raises(LostRun):
        await two.emit(make_event(key="from-two"))
    await one.close()
    assert await RunEvent.objects.filter(run=run).acount() == 1


async def test_events_emitted_without_waiting_are_stored_in_order_before_the_next(run: Run) -> None:
    sink = RunSink(run, ChainHead())
    await sink.emit(make_event("agent.started", key="a:started"), durable=False)
    await sink.emit(make_event("turn.started", key="a/t1:turn"), durable=False)
    await sink.emit(make_event("message", key="a/t1"))  # durable: returns once stored

    # No close(): what the durable emit waited for includes everything emitted before it.
    keys = [
        k
        async for k in RunEvent.objects.filter(run=run)
        .order_by("seq")
        .values_list("key", flat=True)
    ]
    assert keys == ["a:started", "a/t1:turn", "a/t1"]
    await sink.close()
    result = await sync_to_async(verify)(run)
    assert (result["ok"], result["events"]) == (True, 3)  # its end signs the head, not the sink


async def test_sealing_hands_over_what_is_queued_chained_and_unwritten(run: Run) -> None:
    sink = RunSink(run, ChainHead())
    await sink.emit(make_event("agent.started", key="a:started"))  # durable: written
    usage = {"input_tokens": 40, "output_tokens": 9, "cost_usd": 0.0012}
    await sink.emit(make_event("usage", key="a/t1#usage", payload=usage), durable=False)
    await sink.emit(make_event("run.finished", key="run:finished"), durable=False)

    tail = await sink.seal()

    # The caller stores the tail (with the run's end): the sink wrote none of it.
    assert [(row.seq, row.key) for row in tail.rows] == [(2, "a/t1#usage"), (3, "run:finished")]
    assert [k async for k in RunEvent.objects.filter(run=run).values_list("key", flat=True)] == [
        "a:started"
    ]
    # Chained after what was written, told to watchers as the sink would, totals kept.
    assert sink.head.seq == 3
    assert [e["seq"] for m in tail.messages for e in events_in(m)] == [2, 3]
    assert (run.input_tokens, run.output_tokens) == (40, 9)
    with pytest.raises(RuntimeError, match="closed"):
        await sink.emit(make_event(key="too-late"))
    await sync_to_async(store)(run.id, tail.rows)
    result = await sync_to_async(verify)(run)
    assert (result["ok"], result["events"]) == (True, 3)  # its end signs the head, not the sink


async def test_a_write_that_failed_without_a_waiter_stops_the_next_emit(run: Run) -> None:
    # Another executor wrote seq 1: this sink's unwaited event cannot be stored, and the
    # engine learns it at its next emit instead of carrying on as if it had been.
    one, two = RunSink(run, ChainHead()), RunSink(run, ChainHead())
    await one.emit(make_event(key="from-one"))
    await two.emit(make_event(key="from-two"), durable=False)
    with pytest.raises(LostRun):
        for n in range(50):
            await asyncio.sleep(0.01)
            await two.emit(make_event(key=f"later-{n}"), durable=False)
    await one.close()
    assert [k async for k in RunEvent.objects.filter(run=run).values_list("key", flat=True)] == [
        "from-one"
    ]


async def test_token_deltas_are_broadcast_not_stored(run: Run) -> None:
    layer, channel = await listen(run)
    sink = RunSink(run, ChainHead())
    for text in ["Hel", "lo", " there"]:
        await sink.emit(
            make_event("message.delta", agent="writer", span_id="s1", payload={"text": text})
        )
    await sink.emit(
        make_event("message", key="m", agent="writer", payload={"content": "Hello there"})
    )
    await sink.close()

    delta, events = await received(layer, channel, 2)
    assert delta == {"type": "run.delta", "agent": "writer", "span_id": "s1", "text": "Hello there"}
    assert [e["type"] for e in events_in(events)] == ["message"]
    assert await RunEvent.objects.filter(run=run).acount() == 1


async def test_a_burst_goes_out_as_one_message_after_commit(run: Run) -> None:
    layer, channel = await listen(run)
    sink = RunSink(run, ChainHead())
    await asyncio.gather(*(sink.emit(make_event(key=f"k{n}")) for n in range(20)))
    await sink.close()

    (message,) = await received(layer, channel, 1)
    assert message["type"] == "run.events"
    assert [e["seq"] for e in events_in(message)] == list(range(1, 21))
    # Broadcast after commit: whatever a watcher hears is already in the database.
    assert await RunEvent.objects.filter(run=run).acount() == 20


async def test_usage_adds_to_the_run_totals_and_tells_watchers(run: Run) -> None:
    layer, channel = await listen(run)
    sink = RunSink(run, ChainHead())
    usage = {"model": "offline", "input_tokens": 120, "output_tokens": 30, "cost_usd": 0.0015}
    await sink.emit(make_event("usage", key="u1", payload=usage))
    await sink.emit(make_event("usage", key="u2", payload=usage))
    await sink.close()

    await run.arefresh_from_db()
    assert (run.input_tokens, run.output_tokens, float(run.cost_usd)) == (240, 60, 0.003)
    # Each write was its own commit: events, then the summary as it stood after it.
    messages = await received(layer, channel, 4)
    assert [m["type"] for m in messages] == ["run.events", "run.summary"] * 2
    assert messages[-1]["run"]["input_tokens"] == 240


async def test_a_payload_with_a_nul_character_is_stored_and_verifies(run: Run) -> None:
    sink = RunSink(run, ChainHead())
    await sink.emit(make_event("tool.result", key="t", payload={"result": "a\x00b", "n": 1.5}))
    await sink.close()
    assert (await sync_to_async(verify)(run))["ok"]
