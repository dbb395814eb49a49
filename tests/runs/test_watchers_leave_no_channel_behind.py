"""A watcher that leaves takes its channel and its group with it: once its consumer has
ended, the web process's pubsub layer holds no queue for the consumer's channel and Redis
no subscription to the channel or the run's group, even when a group message lands just as
the websocket's close is handled (a run's last events and summary arrive as its watcher
leaves: channels cannot cancel a receive that has already finished, and only a cancelled
receive let the layer go of its channel, runs/pubsub_channels.py), and even when the server
cancels the consumer before its disconnect handler ran."""

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
from runs.broadcast import run_message
from runs.models import Run
from tests.factories import make_run
from tests.runs.live import PrivateRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def watcher(run: Run, user: Any, held: dict[str, Any]) -> tuple[WebsocketCommunicator, str]:
    """A subscribed watcher of ``run`` and the name of its consumer's channel."""
    before = set(held)
    cookie = await sync_to_async(session_cookie)(user)
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)]
    )
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    assert await socket.receive_nothing(timeout=0.5)  # subscribed: nothing stored yet
    [channel] = set(held) - before
    return socket, channel


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


async def test_a_watcher_leaving_as_a_message_lands_leaves_no_channel(
    stack: PrivateRedis, alice: Any
) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    layer = get_channel_layer()
    held = layer._get_layer().channels  # the layer's queue per consumer channel
    socket, channel = await watcher(run, alice, held)
    assert await subscribers(stack.url, channel) == 1

    # The run's summary lands in the consumer's queue in the same moment its watcher leaves
    # (put there directly, as the layer's Redis reader does: both are ready at once).
    held[channel].put_nowait(layer.serialize(await sync_to_async(run_message)(run)))
    await socket.send_input({"type": "websocket.disconnect", "code": 1000})
    await socket.wait(timeout=5)  # the consumer has ended

    assert channel not in held
    assert await subscribers(stack.url, channel) == 0


async def test_watchers_that_leave_leave_nothing_held(stack: PrivateRedis, alice: Any) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    held = get_channel_layer()._get_layer().channels
    before = set(held)
    for _ in range(5):
        socket, channel = await watcher(run, alice, held)
        await socket.disconnect()
        assert await subscribers(stack.url, channel) == 0
    assert set(held) == before


async def test_a_watcher_the_server_cancels_leaves_its_group(
    stack: PrivateRedis, alice: Any
) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    layer = get_channel_layer()
    held = layer._get_layer().channels
    group = layer._get_group_channel_name(run.group_name)
    socket, channel = await watcher(run, alice, held)
    assert await subscribers(stack.url, group) == 1

    # daphne cancels a consumer still running application_close_timeout after its client
    # left: its disconnect handler never runs
    socket.future.cancel()
    await socket.wait(timeout=5)

    assert channel not in held
    assert await subscribers(stack.url, group) == 0
    assert await subscribers(stack.url, channel) == 0


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
    socket = WebsocketCommunicator(server, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)])
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    assert await socket.receive_nothing(timeout=0.5)

    # the run's summary arrives while the client's close is under way
    server.closing = True
    await layer.group_send(run.group_name, await sync_to_async(run_message)(run))
    assert await socket.receive_nothing(timeout=1)
    assert not socket.future.done()  # the consumer did not end in an error

    # and when the disconnect arrives it leaves as usual
    await socket.send_input({"type": "websocket.disconnect", "code": 1000})
    await socket.wait(timeout=5)
    assert await subscribers(stack.url, group) == 0
