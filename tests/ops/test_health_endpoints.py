"""/healthz says the process answers; /readyz says whether the database, the channel layer and
the broker can be reached, and follows Redis going away and coming back."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client

from tests.conftest import require
from tests.factories import make_user
from tests.ops.helpers import wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, so stopping it disturbs nobody else."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self.answers, f"redis-server to listen on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    require(shutil.which("redis-server") is not None, "needs the redis-server program")
    server = RedisServer()
    server.start()
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [server.url], "prefix": "ops-readyz"},
        }
    }
    settings.CELERY_BROKER_URL = server.url
    yield server
    server.stop()


def test_healthz_answers_without_touching_anything(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.fixture
def monitoring(settings: Any) -> Client:
    """The monitoring system: it holds the metrics token."""
    settings.METRICS_TOKEN = "readyz-test-token"
    return Client(headers={"Authorization": "Bearer readyz-test-token"})


@pytest.mark.django_db
def test_readyz_is_ready_with_the_embedded_default(client: Client, monitoring: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    checks = monitoring.get("/readyz").json()["checks"]
    assert checks == {"database": "ok", "channel_layer": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_fails_while_redis_is_stopped_and_recovers_when_it_is_back(
    client: Client, own_redis: RedisServer, monitoring: Client
) -> None:
    assert client.get("/readyz").status_code == 200

    # Redis goes away: not ready. An anonymous caller learns only that; no host, no error.
    own_redis.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert b"127.0.0.1" not in response.content and b"Error" not in response.content
    # The monitoring system (and staff) see which dependencies are unreachable.
    response = monitoring.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["channel_layer"].startswith("error: ConnectionError")
    assert body["checks"]["broker"].startswith("error: ConnectionError")

    wrong = Client(headers={"Authorization": "Bearer not-the-token"}).get("/readyz")
    assert wrong.json() == {"status": "unavailable"}
    staff = Client()
    staff.force_login(make_user("operator", is_staff=True))
    assert "checks" in staff.get("/readyz").json()

    # Redis comes back on the same port: ready again, with nothing restarted on our side.
    own_redis.start()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
