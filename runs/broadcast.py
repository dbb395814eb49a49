"""What watchers of a run are told, and how: the websocket message shapes (``run.events``,
``run.delta``, ``run.summary``) and the publishers that send them to the run's group, from
synchronous code (``publish``) and from the run loop (``publish_soon``, batched by the loop's
``Publisher``)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import create_pool
from redis import asyncio as aioredis

from .models import Run, RunEvent
from .serializers import run_json
from .shell.loop import Batcher, one_per_loop

log = logging.getLogger(__name__)


_EVENTS_PREFIX = '{"type":"events","events":['


def events_message(rows: Sequence[RunEvent]) -> dict[str, Any]:
    """Stored events for the group, with the websocket text serialized once for all
    watchers: a consumer that is up to date forwards it as it is. Each event is its
    canonical JSON (as in the audit export), made around the payload's stored text."""
    text = _EVENTS_PREFIX + ",".join(row.to_json() for row in rows) + "]}"
    return {"type": "run.events", "first_seq": rows[0].seq, "last_seq": rows[-1].seq, "text": text}


def events_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a ``run.events`` message."""
    return json.loads(message["text"])["events"]


def merged_events(messages: Sequence[dict[str, Any]], max_bytes: int) -> list[dict[str, Any]]:
    """``messages`` in order, with each run of ``run.events`` messages whose seqs follow on
    made one (their texts joined, not parsed again) while the text stays within ``max_bytes``."""
    out: list[dict[str, Any]] = []
    for message in messages:
        last = out[-1] if out else None
        if (
            last is not None
            and message.get("type") == last.get("type") == "run.events"
            and message["first_seq"] == last["last_seq"] + 1
            and message["text"].startswith(_EVENTS_PREFIX)
            and last["text"].endswith("]}")
            # Characters, at most four bytes each: the sum stays under the limit in bytes.
            and len(last["text"]) + len(message["text"]) <= max_bytes // 4
        ):
            text = last["text"][:-2] + "," + message["text"][len(_EVENTS_PREFIX) :]
            out[-1] = {**last, "last_seq": message["last_seq"], "text": text}
        else:
            out.append(message)
    return out


def delta_message(agent: str | None, span_id: str | None, text: str) -> dict[str, Any]:
    return {"type": "run.delta", "agent": agent, "span_id": span_id, "text": text}


def run_message(run: Run) -> dict[str, Any]:
    return {"type": "run.summary", "run": run_json(run)}


def broadcast_events(run_id: Any, rows: Sequence[RunEvent]) -> None:
    """From synchronous code (the web tier): tell watchers about stored events."""
    if rows:
        publish(f"run.{run_id}", [events_message(rows)])


def broadcast_run(run: Run) -> None:
    """From synchronous code: tell watchers the run's summary changed."""
    publish(run.group_name, [run_message(run)])


def publish(group: str, messages: Sequence[dict[str, Any]]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        for message in messages:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        # Watchers catch up from the database; a lost broadcast must not fail the caller.
        log.warning("Could not broadcast to %s", group, exc_info=True)


async def publish_soon(group: str, messages: Sequence[dict[str, Any]]) -> None:
    """From the run loop: publish ``messages`` to ``group``. With Redis this only queues them
    for the loop's ``Publisher``, which sends everything in the order queued; the caller
    (a sink writing its next batch, a run starting or ending) does not wait for Redis."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    if isinstance(layer, RedisPubSubChannelLayer):
        one_per_loop(Publisher).publish(group, messages)
        return
    await _group_send(layer, group, messages)


async def _group_send(layer: Any, group: str, messages: Sequence[dict[str, Any]]) -> None:
    try:
        for message in messages:
            await layer.group_send(group, message)
    except Exception:
        log.warning("Could not broadcast to %s", group, exc_info=True)


class Publisher(Batcher[tuple[str, bytes], None]):
    """Publishes what every run on one event loop broadcasts, many messages a round trip.

    channels-redis publishes one message per round trip, under a lock per connection, so
    with hundreds of runs on a loop (or a run streaming fast) the queue of publishes, not
    the database, set the pace. Here everything queued while a round trip is in flight goes
    out in the next one as one Redis pipeline, in the order it was queued. The messages are
    exactly what ``group_send`` would publish (same channel, same serialization), so the
    consumers receive them through the layer as usual.
    """

    def __init__(self) -> None:
        self._layer: Any = get_channel_layer()
        self._clients: dict[Any, Any] = {}
        super().__init__(self._send_round, name="run-publisher")

    def publish(self, group: str, messages: Sequence[dict[str, Any]]) -> asyncio.Future[None]:
        """Queue ``messages``; the future is done once they are published."""
        layer = get_channel_layer()
        if layer is not self._layer:  # CHANNEL_LAYERS changed: tests move to another Redis
            self._layer, self._clients = layer, {}
        channel = self._layer._get_group_channel_name(group)
        futures = [self.submit((channel, self._layer.serialize(m))) for m in messages]
        return futures[-1]

    async def _send_round(self, batch: list[tuple[str, bytes]]) -> list[None]:
        try:
            await self._send(batch)
        except Exception:
            # Watchers catch up from the database; a lost broadcast fails nobody.
            log.warning("Could not broadcast %d messages", len(batch), exc_info=True)
        return [None] * len(batch)

    async def _send(self, batch: Sequence[tuple[str, bytes]]) -> None:
        by_shard: dict[Any, list[tuple[str, bytes]]] = {}
        for channel, data in batch:
            by_shard.setdefault(self._layer._get_shard(channel), []).append((channel, data))
        for shard, messages in by_shard.items():
            pipeline = self._client(shard).pipeline(transaction=False)
            for channel, data in messages:
                pipeline.publish(channel, data)
            await pipeline.execute()

    def _client(self, shard: Any) -> Any:
        """This loop's own connection to the shard's Redis (the layer's is kept for it)."""
        if shard not in self._clients:
            self._clients[shard] = aioredis.Redis(connection_pool=create_pool(shard.host))
        return self._clients[shard]
