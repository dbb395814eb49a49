"""Celery's Redis transport, with one Redis client per channel instead of one per command, and
the tasks waiting in a queue taken together instead of one per round trip.

kombu's Redis channel builds a new ``redis.Redis`` for every operation that is not given one
(``conn_or_acquire``): receiving a task records it as unacknowledged and acknowledging it
removes it, and each built a client, whose constructor copies redis-py's table of response
callbacks. With hundreds of runs a minute on one worker that was a quarter of the worker's
main-thread CPU (docs/performance-log.md). A ``redis.Redis`` is safe to share between threads: every
command takes a connection from the pool, and pipelines are made per call as before.

kombu receives one message per BRPOP, and records each as unacknowledged with a round trip of
its own, all on the worker's main thread. On a worker whose run loop keeps the interpreter
busy, each of those steps also waits for the interpreter, so runs arriving together waited in
Redis for one another: a hundred milliseconds on average with 200 runs in flight, seconds in a
burst. Here, once a BRPOP has delivered a message, the messages waiting behind it (as many as
the prefetch limit leaves room for) are popped and recorded as unacknowledged by one Lua
script, atomically, exactly as kombu records them: a worker that dies after taking them
leaves them to kombu's restore of unacknowledged messages, as it would one from BRPOP.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis, virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import loads
from redis.exceptions import ConnectionError as RedisConnectionError

log = logging.getLogger(__name__)

#: The most messages taken in one go when the prefetch limit sets none.
TAKE_AT_MOST = 100

#: KEYS: the unacknowledged index and messages, then the queue's lists by priority.
#: ARGV: how many to take, and the time they are taken. Pops from the lists in order and
#: records each message as kombu's ``QoS.append`` does: its delivery tag in the index at
#: that time, ``[message, exchange, routing key]`` in the messages. A message that is not
#: one of kombu's goes back where it was, for BRPOP to deliver as kombu does.
TAKE_WAITING = """
local taken, want = {}, tonumber(ARGV[1])
for i = 3, #KEYS do
  while #taken < want do
    local item = redis.call('RPOP', KEYS[i])
    if not item then break end
    local ok, message = pcall(cjson.decode, item)
    local properties = ok and type(message) == 'table' and message['properties']
    local info = type(properties) == 'table' and properties['delivery_info']
    local tag = type(properties) == 'table' and properties['delivery_tag']
    if type(info) ~= 'table' or type(tag) ~= 'string' then
      redis.call('RPUSH', KEYS[i], item)
      return taken
    end
    redis.call('ZADD', KEYS[1], ARGV[2], tag)
    redis.call('HSET', KEYS[2], tag, '[' .. item .. ',' .. cjson.encode(info['exchange'])
      .. ',' .. cjson.encode(info['routing_key']) .. ']')
    taken[#taken + 1] = item
  end
end
return taken
"""


class QoS(redis.QoS):  # type: ignore[misc]
    """Skips the round trip that records a message as unacknowledged when ``TAKE_WAITING``
    already has."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: set[str] = set()

    def append(self, message: Any, delivery_tag: str) -> None:
        if delivery_tag in self.recorded:
            self.recorded.discard(delivery_tag)
            virtual.QoS.append(self, message, delivery_tag)
            return
        super().append(message, delivery_tag)


class Channel(redis.Channel):  # type: ignore[misc]
    QoS = QoS
    _shared_client: Any = None
    _take_waiting: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        if self._pool is None and getattr(self.connection, "client", None) is None:
            # Closing after the broker went away, kombu restores unacknowledged messages
            # through a pool it can no longer build: the AttributeError that raised stopped
            # the worker for good (tests/faults/test_redis_restarted.py). A connection error
            # is what Celery ignores there before connecting again; the messages come back
            # with the visibility timeout.
            raise RedisConnectionError("The connection to the broker is closed.")
        shared = self._shared_client
        if shared is None or shared.connection_pool is not self.pool:  # a new pool after an error
            shared = self._shared_client = self._create_client()
            self._take_waiting = shared.register_script(TAKE_WAITING)
        yield shared

    def _brpop_read(self, **options: Any) -> bool:
        delivered: bool = super()._brpop_read(**options)
        if delivered and not self.global_keyprefix:
            self._deliver_waiting()
        return delivered

    def _deliver_waiting(self) -> None:
        """Deliver the messages waiting in the queues consumed, up to the prefetch limit."""
        for queue in list(self.active_queues):
            room = self.qos.can_consume_max_estimate()
            room = TAKE_AT_MOST if room is None else min(room, TAKE_AT_MOST)
            if room <= 0:
                return
            lists = [self._q_for_pri(queue, pri) for pri in self.priority_steps]
            try:
                with self.conn_or_acquire():
                    items = self._take_waiting(
                        keys=[self.unacked_index_key, self.unacked_key, *lists],
                        args=[room, time.time()],
                    )
            except self.connection_errors:
                log.warning("Could not take the tasks waiting in %s; BRPOP will", queue)
                return
            for item in items:
                payload = loads(bytes_to_str(item))
                self.qos.recorded.add(payload["properties"]["delivery_tag"])
                self.connection._deliver(payload, queue)


class Transport(redis.Transport):  # type: ignore[misc]
    Channel = Channel
