"""Where the code leans on libraries' private parts, an upgrade that changes them fails here,
loudly and by name, before it can fail in production: the source of every private method we
override, call or copy must be the one we read, and what we skip Django for must still hold.

The bounds in pyproject.toml keep these versions; raising one means reading the new source
of each name below, checking the code that uses it, and updating its fingerprint here."""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

import pytest
from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
from channels_redis import pubsub, utils
from daphne.http_protocol import WebRequest
from kombu.transport import redis, virtual
from twisted.internet import abstract, tcp
from twisted.web import http

from orchestration_site import body_limit
from runs.models import Run
from runs.shell.claims import prefetched_nothing
from tests.factories import make_run, make_user

#: name: (what uses it, the object, a fingerprint of its source as we read it).
READ: dict[str, tuple[str, Any, str]] = {
    # orchestration_site/broker.py records messages as unacknowledged as kombu does, shares
    # one client per channel, and delivers the messages waiting behind a BRPOP.
    "kombu redis.QoS.append": ("broker.TAKE_WAITING", redis.QoS.append, "35c655f6ecc62fe6"),
    "kombu virtual.QoS.append": ("broker.QoS", virtual.QoS.append, "b388f0cd6485c28a"),
    "kombu virtual.QoS.can_consume_max_estimate": (
        "broker.Channel._deliver_waiting",
        virtual.QoS.can_consume_max_estimate,
        "936d3958266c68d3",
    ),
    "kombu redis.Channel.conn_or_acquire": (
        "broker.Channel.conn_or_acquire",
        redis.Channel.conn_or_acquire,
        "25883caca6c4121e",
    ),
    "kombu redis.Channel._brpop_read": (
        "broker.Channel._brpop_read",
        redis.Channel._brpop_read,
        "c42518699709f2df",
    ),
    "kombu redis.Channel._create_client": (
        "broker.Channel.conn_or_acquire",
        redis.Channel._create_client,
        "dae92bc4075dafb9",
    ),
    "kombu redis.Channel._q_for_pri": (
        "broker.Channel._deliver_waiting",
        redis.Channel._q_for_pri,
        "f3997660680dd00f",
    ),
    "kombu virtual.Transport._deliver": (
        "broker.Channel._deliver_waiting",
        virtual.Transport._deliver,
        "799e242f3ec53863",
    ),
    # runs/broadcast.py's Publisher publishes exactly what group_send would, many a round trip.
    "channels-redis RedisPubSubLoopLayer.group_send": (
        "broadcast.Publisher",
        pubsub.RedisPubSubLoopLayer.group_send,
        "5d5f908ce40f335b",
    ),
    "channels-redis RedisPubSubLoopLayer._get_group_channel_name": (
        "broadcast.Publisher.publish",
        pubsub.RedisPubSubLoopLayer._get_group_channel_name,
        "c3139bae61c673aa",
    ),
    "channels-redis RedisPubSubLoopLayer._get_shard": (
        "broadcast.Publisher._send",
        pubsub.RedisPubSubLoopLayer._get_shard,
        "9c655ee12ccbc91e",
    ),
    "channels-redis RedisPubSubChannelLayer.__getattr__": (
        "broadcast.Publisher (the layer's private names reach the loop's layer through it)",
        pubsub.RedisPubSubChannelLayer.__getattr__,
        "b4e95df4c57ad00b",
    ),
    "channels-redis RedisSingleShardConnection.__init__": (
        "broadcast.Publisher._client (shard.host)",
        pubsub.RedisSingleShardConnection.__init__,
        "9c8f408acb4c2d7b",
    ),
    "channels-redis utils.create_pool": (
        "broadcast.Publisher._client",
        utils.create_pool,
        "c706feb32b834078",
    ),
    # runs/backlog.py's send_prepared writes a run's shared frame as autobahn would
    # (uncompressed, behind nothing autobahn queued) and hands Twisted what the socket left.
    "autobahn WebSocketProtocol.sendPreparedMessage": (
        "backlog.Backlog.send_prepared (_perMessageCompress, payloadHybi)",
        WebSocketProtocol.sendPreparedMessage,
        "207ccbb3f0d5085c",
    ),
    "autobahn WebSocketProtocol.sendData": (
        "backlog.Backlog.send_prepared (send_queue)",
        WebSocketProtocol.sendData,
        "5dcca425b048b07e",
    ),
    "autobahn PreparedMessage.__init__": (
        "fanout.Broadcast.prepared",
        PreparedMessage.__init__,
        "76eab585334bdb71",
    ),
    "twisted FileDescriptor.write": (
        "backlog.Backlog.send_prepared (the rest goes after what is buffered)",
        abstract.FileDescriptor.write,
        "3e46c97fc173bc7e",
    ),
    # orchestration_site/body_limit.py wraps the three steps a request body goes through in
    # daphne's request (its length, each chunk, then the request handed to the application).
    "twisted http.Request.gotLength": (
        "body_limit.install (a declared length, before any of the body)",
        http.Request.gotLength,
        "1c389b99da50b0ae",
    ),
    "twisted http.Request.handleContentChunk": (
        "body_limit.install (each chunk of the body, as it arrives)",
        http.Request.handleContentChunk,
        "6e942756afb787b4",
    ),
    "twisted http.Request.requestReceived": (
        "body_limit.install (calls process once the body is in)",
        http.Request.requestReceived,
        "99ca6c5e24305de4",
    ),
    "twisted http.HTTPChannel.allHeadersReceived": (
        "body_limit.install (calls gotLength before the body)",
        http.HTTPChannel.allHeadersReceived,
        "979a9a8410f41ad9",
    ),
    "daphne WebRequest.process": (
        "body_limit.install (skipped for a refused body)",
        body_limit.WRAPPED.get("process", WebRequest.process),
        "e9babd1c97ce710b",
    ),
    "twisted tcp.Connection.writeSomeData": (
        "backlog.Backlog.send_prepared (transport.socket.send, as Twisted writes)",
        tcp.Connection.writeSomeData,
        "2dd0d4209260b94e",
    ),
}


def fingerprint(obj: Any) -> str:
    return hashlib.sha256(inspect.getsource(obj).encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(READ))
def test_the_private_code_we_lean_on_is_the_code_we_read(name: str) -> None:
    used_by, obj, expected = READ[name]
    assert fingerprint(obj) == expected, (
        f"{name} changed in this version: re-read it and check {used_by} before raising the "
        "bound in pyproject.toml, then update its fingerprint here."
    )


@pytest.mark.django_db
def test_a_relation_marked_empty_reads_as_empty_without_a_query(
    django_assert_num_queries: Any,
) -> None:
    # The claim marks a run that never ran as having no artifacts (Django's prefetch cache),
    # so its summary costs no query; Django must still read the mark.
    run = Run.objects.get(id=make_run(make_user()).id)
    prefetched_nothing(run, "artifacts")
    with django_assert_num_queries(0):
        assert list(run.artifacts.all()) == []
        assert not run.artifacts.exists()
