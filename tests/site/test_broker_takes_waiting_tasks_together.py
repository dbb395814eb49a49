"""The Celery broker transport (orchestration_site/broker.py) takes the messages waiting behind
the one BRPOP delivered in one round trip, up to the prefetch limit, and records them as
unacknowledged exactly as kombu does: each delivered once and in order, and a consumer that
goes away without acknowledging them leaves them to be delivered again."""

import os
import uuid
from collections.abc import Iterator

import pytest
import redis
from kombu import Connection, Consumer, Exchange, Producer, Queue

from orchestration_site.broker import Transport

pytestmark = pytest.mark.redis


@pytest.fixture
def queue() -> Iterator[Queue]:
    name = f"broker-takes-{uuid.uuid4().hex[:8]}"
    yield Queue(name, Exchange(name), routing_key=name)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete(name, *(f"{name}\x06\x16{p}" for p in (3, 6, 9)))


def publish(queue: Queue, count: int) -> None:
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        producer = Producer(connection.default_channel)
        for n in range(count):
            producer.publish({"n": n}, exchange=queue.exchange, routing_key=queue.routing_key,
                             declare=[queue])  # fmt: skip


def receive(connection: Connection, queue: Queue, prefetch: int, received: list) -> Consumer:
    consumer = Consumer(connection.channel(), [queue], callbacks=[lambda body, message: received.append((body["n"], message))])  # fmt: skip
    consumer.qos(prefetch_count=prefetch)
    consumer.consume()
    return consumer


def drain(connection: Connection, received: list, until: int) -> None:
    """Receive until ``until`` messages came, acknowledging each (so the prefetch limit
    lets more come)."""
    acknowledged = 0
    while len(received) < until:
        for _, message in received[acknowledged:]:
            message.ack()
        acknowledged = len(received)
        connection.drain_events(timeout=5)
    for _, message in received[acknowledged:]:
        message.ack()


def test_one_brpop_brings_what_waits_behind_it_up_to_the_prefetch_limit(queue: Queue) -> None:
    publish(queue, 25)
    received: list = []
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        consumer = receive(connection, queue, 10, received)
        channel = consumer.channel
        connection.drain_events(timeout=5)  # one BRPOP

        # The first message and the nine behind it, all recorded as unacknowledged.
        assert [n for n, _ in received] == list(range(10))
        with channel.conn_or_acquire() as client:
            assert client.hlen(channel.unacked_key) >= 10
            assert client.llen(queue.name) == 15
        drain(connection, received, 25)

        assert [n for n, _ in received] == list(range(25))
        with channel.conn_or_acquire() as client:
            tags = {m.delivery_tag for _, m in received}
            assert not any(client.hexists(channel.unacked_key, tag) for tag in tags)


def test_messages_taken_but_never_acknowledged_are_delivered_again(queue: Queue) -> None:
    publish(queue, 6)
    first: list = []
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        receive(connection, queue, 0, first)
        connection.drain_events(timeout=5)
        assert [n for n, _ in first] == list(range(6))
    # The consumer went away without acknowledging: kombu restores what it held.

    again: list = []
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        receive(connection, queue, 0, again)
        drain(connection, again, 6)
        assert sorted(n for n, _ in again) == list(range(6))
        assert all(m.delivery_info.get("redelivered") for _, m in again)


def test_something_that_is_not_a_kombu_message_is_left_where_it_was(queue: Queue) -> None:
    publish(queue, 1)
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.lpush(queue.name, b"not a message")  # behind the real one
    received: list = []
    with Connection(os.environ["REDIS_URL"], transport=Transport) as connection:
        receive(connection, queue, 0, received)
        connection.drain_events(timeout=5)

        assert [n for n, _ in received] == [0]
        assert client.lrange(queue.name, 0, -1) == [b"not a message"]
        received[0][1].ack()
