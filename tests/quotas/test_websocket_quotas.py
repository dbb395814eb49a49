"""Opening websockets and subscribing are rate-limited per person: past the connection rate
the socket closes with 4429 (and Retry-After in the reason), past the subscribe rate the
subscription is answered with an error and no events; another person is unaffected."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from orchestration_site.asgi import application
from runs.models import Run
from tests.factories import make_run, make_user
from tests.runs.test_run_websocket import record, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)


async def open_socket(run: Run, user: Any) -> WebsocketCommunicator:
    cookie = await sync_to_async(session_cookie)(user)
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)]
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


def running_run(owner: Any) -> Run:
    run = make_run(owner, status=Run.Status.RUNNING)
    record(run, 3)
    return run


async def test_connecting_past_the_rate_closes_with_4429(settings: Any) -> None:
    settings.QUOTA_WEBSOCKET_CONNECTS = "3/minute"
    alice, bob = await sync_to_async(make_user)("alice"), await sync_to_async(make_user)("bob")
    run = await sync_to_async(running_run)(alice)
    sockets = [await open_socket(run, alice) for _ in range(3)]
    # the fourth socket in the minute is closed at once
    refused = await open_socket(run, alice)
    message = await refused.receive_output(timeout=5)
    assert (message["type"], message["code"]) == ("websocket.close", 4429)
    assert "Retry-After: " in message["reason"]
    # bob watches his own run as usual
    his = await open_socket(await sync_to_async(running_run)(bob), bob)
    await his.send_json_to({"type": "subscribe", "after_seq": 0})
    assert (await his.receive_json_from(timeout=5))["type"] == "events"
    for socket in [*sockets, refused, his]:
        await socket.disconnect()


async def test_subscribing_past_the_rate_gets_an_error_and_no_events(settings: Any) -> None:
    settings.QUOTA_WEBSOCKET_SUBSCRIBES = "2/minute"
    alice = await sync_to_async(make_user)("alice")
    run = await sync_to_async(running_run)(alice)
    socket = await open_socket(run, alice)
    for _ in range(2):
        await socket.send_json_to({"type": "subscribe", "after_seq": 0})
        assert (await socket.receive_json_from(timeout=5))["type"] == "events"
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    answer = await socket.receive_json_from(timeout=5)
    assert answer["type"] == "error" and answer["retry_after"] >= 1
    assert "websocket subscriptions" in answer["detail"]
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
