"""A watcher connected before Redis restarts hears the run's events live once Redis is back,
and one connected when a message the layer cannot read arrives hears the ones after it: the
process's subscriber to the run (runs/fanout.py) subscribes again by itself, rather than
staying deaf until another watcher joins. The database poll, which would also catch the
watcher up, is set far off here, so only the live stream can deliver."""

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from runs import fanout
from runs.broadcast import events_message
from runs.models import Run
from tests.factories import append_event, make_run
from tests.runs.helpers import until
from tests.runs.live import PrivateRedis
from tests.runs.test_run_websocket import watch

PUBSUB = "channels_redis.pubsub.RedisPubSubChannelLayer"  # the layer the settings configure
CORE = "channels_redis.core.RedisChannelLayer"  # one whose receive fails while Redis is away

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
]


async def live_seqs(run: Run, socket: WebsocketCommunicator, message: dict[str, Any]) -> list[int]:
    """Publish ``message`` until the watcher receives it (the first publishes after a
    restart may find the publishing connection broken, or the subscriber not back yet)."""
    layer = get_channel_layer()
    for _ in range(30):
        with contextlib.suppress(RedisError, OSError):
            await layer.group_send(run.group_name, message)
        # (receive_nothing waits without consuming; a receive that times out would end the
        # consumer)
        if not await socket.receive_nothing(timeout=1, interval=0.05):
            return [e["seq"] for e in (await socket.receive_json_from())["events"]]
    raise AssertionError("the watcher heard nothing of the run, live, for 30 s")


@pytest.mark.parametrize("backend", [PUBSUB, CORE])
async def test_a_watcher_hears_the_run_live_after_redis_restarts(
    stack: PrivateRedis, alice: Any, settings: Any, backend: str
) -> None:
    settings.CHANNEL_LAYERS["default"]["BACKEND"] = backend
    settings.CHANNEL_LAYERS = settings.CHANNEL_LAYERS
    settings.RUN_WATCH_POLL_S = 3600  # no catching up from the database in this test
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    socket = await watch(run, alice, after_seq=0)
    assert await socket.receive_nothing(timeout=0.5)  # subscribed; nothing stored yet
    first = await sync_to_async(append_event)(run, "message")
    assert await live_seqs(run, socket, events_message([first])) == [1]

    await asyncio.to_thread(stack.restart)

    # events stored and published after Redis is back reach the watcher live
    rows = [await sync_to_async(append_event)(run, "message") for _ in range(2)]
    assert await live_seqs(run, socket, events_message(rows)) == [2, 3]

    # and when the watcher leaves, nothing of the run's subscriber is left running
    await socket.disconnect()
    assert await tasks_left(run) == []


async def test_a_watcher_that_leaves_while_redis_is_away_leaves_nothing_running(
    stack: PrivateRedis, alice: Any, settings: Any, said: list[str]
) -> None:
    settings.CHANNEL_LAYERS["default"]["BACKEND"] = CORE
    settings.CHANNEL_LAYERS = settings.CHANNEL_LAYERS
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    socket = await watch(run, alice, after_seq=0)
    assert await socket.receive_nothing(timeout=0.5)

    # Redis goes away: the run's subscriber says it lost the live stream, and keeps trying
    await asyncio.to_thread(stack.stop)
    await until(lambda: lost(said), within_s=10)
    await asyncio.sleep(1.5)  # into the retries, which fail too

    await socket.disconnect()
    assert await tasks_left(run) == []
    assert run.group_name not in [group for _, group in fanout._fanouts]


async def test_a_message_the_layer_cannot_read_leaves_the_watchers_listening(
    stack: PrivateRedis, alice: Any, settings: Any, said: list[str]
) -> None:
    settings.RUN_WATCH_POLL_S = 3600
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    socket = await watch(run, alice, after_seq=0)
    assert await socket.receive_nothing(timeout=0.5)

    # bytes that are no message of the layer's land on the run's group
    group = get_channel_layer()._get_group_channel_name(run.group_name)
    client = aioredis.Redis.from_url(stack.url)
    await client.publish(group, b"not a message")
    await client.aclose()

    # the run's next events still reach the watcher live, and the log says what happened
    first = await sync_to_async(append_event)(run, "message")
    assert await live_seqs(run, socket, events_message([first])) == [1]
    assert lost(said)
    await socket.disconnect()


@pytest.fixture
def said() -> Iterator[list[str]]:
    """What the run's subscriber logs, caught at its own logger: whatever an earlier test in
    the suite did to the root logger (its handlers, its level) or to the loggers' switches,
    the operator's log line is what is checked (the suite's caplog saw nothing here once)."""
    lines: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    catch, was = Catch(logging.WARNING), (fanout.log.disabled, fanout.log.level)
    fanout.log.disabled = False
    fanout.log.setLevel(logging.WARNING)
    fanout.log.addHandler(catch)
    yield lines
    fanout.log.removeHandler(catch)
    fanout.log.disabled, fanout.log.level = was


def lost(said: list[str]) -> bool:
    return any("Lost the live stream" in line for line in said)


async def tasks_left(run: Run) -> list[str]:
    """The fan-out's tasks for ``run`` still running, once they had a moment to end."""
    for _ in range(50):
        names = [t.get_name() for t in asyncio.all_tasks() if not t.done()]
        left = [name for name in names if name.startswith(f"fanout-{run.group_name}")]
        if not left:
            break
        await asyncio.sleep(0.1)
    return left
