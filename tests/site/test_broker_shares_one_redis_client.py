"""The Celery broker transport (orchestration_site/broker.py) makes one Redis client per
channel, not one per operation, and a new one when the channel's connection pool changes."""

import os

import pytest
from kombu import Connection

from orchestration_site.broker import Transport

pytestmark = pytest.mark.redis


def test_it_sends_and_receives_through_one_client() -> None:
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        channel = connection.default_channel
        made = []
        create = channel._create_client
        channel._create_client = lambda *a, **k: made.append(1) or create(*a, **k)
        queue = connection.SimpleQueue("broker-shares-one-client")
        try:
            for n in range(5):
                queue.put({"n": n})
            received = []
            for _ in range(5):
                message = queue.get(timeout=5)
                received.append(message.payload["n"])
                message.ack()
        finally:
            queue.clear()
            queue.close()
    assert received == [0, 1, 2, 3, 4]
    assert len(made) == 1  # kombu's own channel made one for each put, get and ack


def test_a_new_pool_gets_a_new_client() -> None:
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        channel = connection.default_channel
        with channel.conn_or_acquire() as first:
            pass
        channel._pool = None  # what kombu does when it drops its connections
        with channel.conn_or_acquire() as second:
            assert second.ping()
    assert second is not first and second.connection_pool is not first.connection_pool
