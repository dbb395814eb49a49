"""A watcher that leaves takes its part of the live stream with it: once its consumer has
ended, its web process hands it nothing more, and when it was the run's last watcher there,
the process's subscriber to the run is gone and Redis holds no subscription to the run's
group; also when the server cancels the consumer before its disconnect handler ran (daphne
does, application_close_timeout after the client left), and when a message lands as the
client's close is under way."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client
from redis import asyncio as aioredis

from orchestration_site.asgi import application
from runs import fanout
from runs.broadcast import delta_message, run_message
from runs.models import Run
from tests.factories import make_run
from tests.runs.live import PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def watcher(run: Run, user: Any) -> WebsocketCommunicator:
    """A subscribed watcher of ``run``."""
    cookie = await sync_to_async(session_cookie)(user)
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)]
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    assert await socket.receive_nothing(timeout=0.5)  # subscribed: nothing stored yet
    return socket


async def subscribers(redis_url: str, channel: str) -> int:
    """Redis's count of subscriptions to ``channel``, once what was sent has been read."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        for _ in range(50):  # an unsubscribe is sent without waiting for its answer
            [(_, count)] = await client.pubsub_numsub(channel)
            if count == 0:
                break
            await asyncio.sleep(0.1)
        return count
    finally:
        await client.aclose()


def fanouts_of(run: Run) -> list[Any]:
    return [f for (_, group), f in fanout._fanouts.items() if group == run.group_name]


async def test_watchers_that_leave_leave_nothing_held(stack: PrivateRedis, alice: Any) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    layer = get_channel_layer()
    held = layer._get_layer().channels  # the layer's queue per channel of this process
    group = layer._get_group_channel_name(run.group_name)
    before = set(held)
    for _ in range(5):
        first, second = await watcher(run, alice), await watcher(run, alice)
        assert await subscribers(stack.url, group) == 1  # one subscriber for both
        [shared] = fanouts_of(run)
        await first.disconnect()
        assert len(shared.watchers) == 1
        await second.disconnect()
        assert fanouts_of(run) == []
        assert await subscribers(stack.url, group) == 0
    await asyncio.sleep(0.1)  # the subscriber's receive lets its channel go as it ends
    assert set(held) == before


async def test_a_watcher_the_server_cancels_leaves_its_run(stack: PrivateRedis, alice: Any) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    layer = get_channel_layer()
    group = layer._get_group_channel_name(run.group_name)
    socket = await watcher(run, alice)
    assert await subscribers(stack.url, group) == 1

    # daphne cancels a consumer still running application_close_timeout after its client
    # left: its disconnect handler never runs
    socket.future.cancel()
    await socket.wait(timeout=5)

    assert fanouts_of(run) == []
    assert await subscribers(stack.url, group) == 0


class Closing:
    """The application under a server whose client has sent its close frame: daphne still
    passes sends on, and autobahn refuses them as it does then."""

    def __init__(self) -> None:
        self.closing = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        async def refusing(message: dict[str, Any]) -> None:
            if self.closing and message["type"] == "websocket.send":
                raise Disconnected("Attempt to send on a closed protocol")
            await send(message)

        return await application(scope, receive, refusing)


async def test_a_message_for_a_watcher_that_is_closing_ends_nothing_in_error(
    stack: PrivateRedis, alice: Any
) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    layer = get_channel_layer()
    group = layer._get_group_channel_name(run.group_name)
    server = Closing()
    cookie = await sync_to_async(session_cookie)(alice)
    closing = WebsocketCommunicator(server, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)])
    assert (await closing.connect())[0]
    await closing.send_json_to({"type": "subscribe", "after_seq": 0})
    assert await closing.receive_nothing(timeout=0.5)
    [shared] = fanouts_of(run)
    [consumer] = shared.watchers
    other = await watcher(run, alice)  # a second watcher of the run, which stays open

    # the run's summary arrives while the first client's close is under way
    server.closing = True
    await layer.group_send(run.group_name, await sync_to_async(run_message)(run))
    assert (await other.receive_json_from(timeout=5))["type"] == "run"
    assert await closing.receive_nothing(timeout=0.5)
    # the closing watcher's forwarder (the task that sends what the fan-out queued for it)
    # ended without an error
    assert consumer.forwarder is not None and consumer.forwarder.done()
    assert consumer.forwarder.exception() is None

    # and the run's later messages still reach its other watcher
    await layer.group_send(run.group_name, delta_message("writer", "s1", "Hello"))
    assert await other.receive_json_from(timeout=5) == {
        "type": "delta", "agent": "writer", "span_id": "s1", "text": "Hello"
    }  # fmt: skip
    assert shared.running

    # and when the disconnect arrives it leaves as usual
    await closing.send_input({"type": "websocket.disconnect", "code": 1000})
    await closing.wait(timeout=5)
    await other.disconnect()
    assert await subscribers(stack.url, group) == 0
