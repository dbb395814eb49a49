"""The production stack as processes, for end-to-end tests: a private redis-server (so a test
may restart it), Celery workers and a daphne server, all on the test database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {within_s} s")


def database_url_of_this_test() -> str:
    """The URL of the database this test uses, for the processes it starts."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


@dataclass
class PrivateRedis:
    """A redis-server of the test's own, persisting to an append-only file like a production
    broker, so it can be restarted without losing the queue."""

    port: int = field(default_factory=free_port)
    directory: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="runs-redis-"))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "yes", "--dir", self.directory],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


def stack_env(redis: PrivateRedis, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": redis.url,
        "CHANNEL_LAYER_PREFIX": f"runs-test-{redis.port}",
        "SECRET_KEY": "tests-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SCRIPTED_KEY": "sk-test",
        # A dead worker's run is taken over after 3 s of silence (live ones beat every
        # half second); its broker message is redelivered after 5 s.
        "RUN_HEARTBEAT_S": "0.5",
        "RUN_STALE_AFTER_S": "3",
        "CELERY_VISIBILITY_TIMEOUT": "5",
        # Workers look for runs whose question's deadline passed every second.
        "RUN_WAKE_SWEEP_S": "1",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("CI_REQUIRE_SERVICES", None)
    env.update(extra)
    return env


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def kill_hard(self) -> None:
        """kill -9: no shutdown, no acknowledgement, nothing written."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill_hard()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start_worker(
    redis: PrivateRedis,
    name: str,
    concurrency: int = 20,
    celery_app: str = "orchestration_site",
    **env: str,
) -> Worker:
    """A Celery worker process; ``env`` overrides the stack's settings for it, and
    ``celery_app`` names the module of its app (a test's own may wrap ours)."""
    log = Path(redis.directory) / f"{name}.log"
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", celery_app, "worker", "-P", "threads",
         "-c", str(concurrency), "-n", f"{name}@%h", "--without-gossip", "--without-mingle",
         "-l", "INFO"],
        cwd=ROOT,
        env=stack_env(redis, **env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the worker did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return Worker(process, log)


@contextmanager
def daphne(redis: PrivateRedis, **env: str) -> Iterator[str]:
    """A live ASGI server; yields its ws:// base URL. ``env`` overrides the stack's settings."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "orchestration_site.asgi:application"],
        cwd=ROOT,
        env=stack_env(redis, **{"RUN_WATCH_POLL_S": "0.5", **env}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        yield f"ws://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def use_broker(redis: PrivateRedis) -> Iterator[None]:
    """Point this test process's Celery app (the API enqueues runs) at the private Redis, and
    back at the stack's broker afterwards, for the tests (and the browser tests' worker) that
    come later in the session."""
    from orchestration_site.celery import app

    saved = app.conf.broker_url, app.conf.broker_transport_options
    _connect(app, redis.url, {"visibility_timeout": 5})
    try:
        yield
    finally:
        _connect(app, *saved)


def _connect(app: Any, url: str, options: dict[str, Any]) -> None:
    app.conf.broker_url = url
    app.conf.broker_transport_options = options
    app._pool = None
    app.amqp._producer_pool = None


def settings_for(redis: PrivateRedis) -> dict[str, Any]:
    return {
        "RUN_EXECUTOR": "celery",
        "CHANNEL_LAYERS": {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [redis.url], "prefix": f"runs-test-{redis.port}"},
            }
        },
    }
