"""Releasing a consumer's channel in channels-redis's pubsub layer once the consumer ends.

The pubsub layer keeps a queue per consumer channel (``RedisPubSubLoopLayer.channels``) and
a Redis subscription for it, and drops both only when the consumer's pending ``receive`` is
cancelled (channels has no "delete channel" call). Channels' ``await_many_dispatch`` cancels
its tasks when the consumer stops, but a receive that has already finished (a group message
arrived while the websocket's close was being handled: a run's last events and summary
land just as its watcher leaves) cannot be cancelled any more, so that channel's queue and
subscription stayed for the life of the process: about one watcher in twenty in the soak
(docs/reliability.md, "Soak"). Upstream: django/channels_redis#276, django/channels#1948.

This reads the layer's private parts (``_get_layer``, ``channels``, ``_get_shard`` and the
shard's ``unsubscribe``, exactly what ``receive`` does on cancellation); the channels-redis
bound in pyproject.toml keeps them, and tests/site/test_library_internals_we_rely_on.py
fails if an upgrade changes them.
"""

from __future__ import annotations

from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


async def release_channel(layer: Any, channel: str | None) -> None:
    """Forget ``channel`` in this event loop's pubsub layer and unsubscribe it, if a consumer
    that has ended left it behind; nothing for other layers (the in-memory one drops a
    channel's queue once it is empty)."""
    if channel is None or not isinstance(layer, RedisPubSubChannelLayer):
        return
    loop_layer = layer._get_layer()
    if loop_layer.channels.pop(channel, None) is not None:
        await loop_layer._get_shard(channel).unsubscribe(channel)
