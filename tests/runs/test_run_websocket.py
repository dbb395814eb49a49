"""The run websocket: only the owner may watch; a subscriber gets the stored events after
``after_seq``, then live ones, each exactly once and in seq order, even when the channel
layer skips or repeats one."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import transaction
from django.test import Client

from orchestration_site.asgi import application
from runs.actions import append
from runs.broadcast import events_message
from runs.chain import ChainHead, chain
from runs.models import Run, RunEvent
from runs.shell.store import store_events as store
from teams.models import ApiToken
from tests.factories import make_event, make_run, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


def record(run: Run, count: int, prefix: str = "e") -> None:
    with transaction.atomic():
        append(run, [make_event(key=f"{prefix}{n}", payload={"n": n}) for n in range(count)])


@pytest.fixture
def run(alice: Any) -> Run:
    run = make_run(alice, status=Run.Status.RUNNING)
    record(run, 5)
    return run


async def watch(run: Run, user: Any, after_seq: int = 0) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie)(user)
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert connected
    await socket.send_json_to({"type": "subscribe", "after_seq": after_seq})
    return socket


async def seqs_until(socket: WebsocketCommunicator, last: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] < last:
        message = await socket.receive_json_from(timeout=5)
        if message["type"] == "events":
            seen += [e["seq"] for e in message["events"]]
    return seen


async def closed_with(socket: WebsocketCommunicator) -> int:
    message = await socket.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


async def test_anonymous_is_closed_with_4401(run: Run) -> None:
    socket = WebsocketCommunicator(application, f"/ws/runs/{run.id}/")
    await socket.connect()
    assert await closed_with(socket) == 4401


async def test_another_user_is_closed_with_4403(run: Run) -> None:
    bob = await sync_to_async(make_user)("bob")
    cookie = await sync_to_async(session_cookie)(bob)
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)]
    )
    await socket.connect()
    assert await closed_with(socket) == 4403


async def test_a_bad_bearer_token_counts_as_anonymous(run: Run) -> None:
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"authorization", b"Bearer ato_nope")]
    )
    await socket.connect()
    assert await closed_with(socket) == 4401


async def test_the_owner_with_a_bearer_token_gets_the_stored_events(run: Run, alice: Any) -> None:
    _, token = await sync_to_async(ApiToken.issue)(alice, "cli")
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"authorization", f"Bearer {token}".encode())]
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "events"
    assert [e["seq"] for e in message["events"]] == [1, 2, 3, 4, 5]
    assert set(message["events"][0]) == {
        "seq",
        "ts",
        "type",
        "key",
        "agent",
        "span_id",
        "parent_span_id",
        "payload",
        "hash",
    }
    await socket.disconnect()


async def test_after_seq_skips_what_the_client_has_then_live_events_follow(
    run: Run, alice: Any
) -> None:
    socket = await watch(run, alice, after_seq=3)
    assert await seqs_until(socket, 5) == [4, 5]

    await sync_to_async(record)(run, 3, prefix="live")
    assert await seqs_until(socket, 8) == [6, 7, 8]
    await socket.disconnect()


async def test_a_live_event_that_skips_ahead_is_preceded_by_the_missing_ones(
    run: Run, alice: Any
) -> None:
    socket = await watch(run, alice, after_seq=5)

    # Events 6 and 7 are stored but their broadcast is lost; 8 arrives live.
    def store_quietly() -> list[RunEvent]:
        rows = chain(run.id, ChainHead.of(run.id), [make_event(key=f"q{n}") for n in range(3)])
        store(run.id, rows)
        return rows

    rows = await sync_to_async(store_quietly)()
    await get_channel_layer().group_send(run.group_name, events_message(rows[2:]))
    assert await seqs_until(socket, 8) == [6, 7, 8]
    await socket.disconnect()


async def test_a_repeated_live_event_is_sent_once(run: Run, alice: Any) -> None:
    socket = await watch(run, alice, after_seq=0)
    assert await seqs_until(socket, 5) == [1, 2, 3, 4, 5]
    repeated = await sync_to_async(
        lambda: events_message(list(RunEvent.objects.filter(run=run, seq__gte=4)))
    )()
    await get_channel_layer().group_send(run.group_name, repeated)
    await sync_to_async(record)(run, 1, prefix="next")
    assert await seqs_until(socket, 6) == [6]
    await socket.disconnect()


async def test_deltas_and_summaries_are_forwarded(run: Run, alice: Any) -> None:
    socket = await watch(run, alice, after_seq=4)
    assert await seqs_until(socket, 5) == [5]  # subscribed
    layer = get_channel_layer()
    await layer.group_send(
        run.group_name, {"type": "run.delta", "agent": "writer", "span_id": "s", "text": "Hi"}
    )
    await layer.group_send(run.group_name, {"type": "run.summary", "run": {"status": "running"}})
    assert await socket.receive_json_from(timeout=5) == {
        "type": "delta",
        "agent": "writer",
        "span_id": "s",
        "text": "Hi",
    }
    assert await socket.receive_json_from(timeout=5) == {
        "type": "run",
        "run": {"status": "running"},
    }
    await socket.disconnect()


async def test_a_message_that_is_not_a_subscription_gets_an_error(run: Run, alice: Any) -> None:
    socket = await watch(run, alice, after_seq=5)
    await socket.send_json_to({"type": "subscribe", "after_seq": -1})
    message = await socket.receive_json_from(timeout=5)
    assert message["type"] == "error"
    assert "subscribe" in message["detail"]
    await socket.disconnect()


async def test_events_whose_broadcast_was_lost_arrive_by_polling(
    run: Run, alice: Any, settings: Any
) -> None:
    settings.RUN_WATCH_POLL_S = 0.2
    socket = await watch(run, alice, after_seq=5)
    assert await socket.receive_nothing(timeout=0.1)

    def store_quietly() -> None:
        store(run.id, chain(run.id, ChainHead.of(run.id), [make_event(key="lost")]))

    await sync_to_async(store_quietly)()
    assert await seqs_until(socket, 6) == [6]
    await socket.disconnect()
