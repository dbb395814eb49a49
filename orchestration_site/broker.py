"""Celery's Redis transport, with one Redis client per channel instead of one per command.

kombu's Redis channel builds a new ``redis.Redis`` for every operation that is not given one
(``conn_or_acquire``): receiving a task records it as unacknowledged and acknowledging it
removes it, and each built a client, whose constructor copies redis-py's table of response
callbacks. With hundreds of runs a minute on one worker that was a quarter of the worker's
main-thread CPU (docs/runs.md). A ``redis.Redis`` is safe to share between threads: every
command takes a connection from the pool, and pipelines are made per call as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):  # type: ignore[misc]
    _shared_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:  # a new pool after an error
            shared = self._shared_client = self._create_client()
        yield shared


class Transport(redis.Transport):  # type: ignore[misc]
    Channel = Channel
