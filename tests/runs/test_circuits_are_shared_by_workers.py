"""A model credential's circuit breaker lives in Redis, so every worker process sees it: one
process's failures open it for the other, the cool-down's one probe goes to one process only,
and a success anywhere closes it. Two real processes, one Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

pytestmark = pytest.mark.redis

WORKER = textwrap.dedent(
    """
    import sys
    from runs.circuits import RedisCircuits
    from runs.engine.circuits import CircuitPolicy

    url, prefix = sys.argv[1:3]
    circuits = RedisCircuits(url, prefix, CircuitPolicy(failures=3, cooldown_s=2.0))
    for line in sys.stdin:
        action = line.strip()
        if action == "fail":
            for _ in range(3):
                circuits.record("credential:claude", ok=False)
        elif action == "fail once":
            circuits.record("credential:claude", ok=False)
        elif action == "succeed":
            circuits.record("credential:claude", ok=True)
        print(circuits.allows("credential:claude"), flush=True)
    """
)


class Worker:
    """A worker process that keeps running between steps, like a Celery worker."""

    def __init__(self, prefix: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER, os.environ["REDIS_URL"], prefix],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )  # fmt: skip

    def step(self, action: str) -> bool:
        """Does ``action``; returns whether this worker may then call the model."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(action + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip() == "True"

    def stop(self) -> None:
        assert self.process.stdin
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def workers():
    prefix = f"test-circuit-{uuid.uuid4().hex}"
    pair = Worker(prefix), Worker(prefix)
    yield pair
    for each in pair:
        each.stop()


def test_one_workers_failures_open_the_circuit_for_every_worker(workers) -> None:
    a, b = workers
    assert a.step("check") is True and b.step("check") is True

    # Worker A sees three failures in a row: the circuit opens, for worker B too.
    assert a.step("fail") is False
    assert b.step("check") is False

    # After the cool-down one worker gets the probe; the other still waits.
    time.sleep(2.2)
    assert b.step("check") is True
    assert a.step("check") is False

    # B's probe succeeded: closed for everyone.
    assert b.step("succeed") is True
    assert a.step("check") is True


def test_a_success_after_failures_elsewhere_clears_them_for_every_worker(workers) -> None:
    """A success skips clearing only when its own check found the circuit clean: once a
    check has seen another worker's failures, the success clears them."""
    a, b = workers
    assert b.step("check") is True  # B finds it clean
    assert a.step("fail once") is True
    assert a.step("fail once") is True  # two of the three failures that open it

    assert b.step("check") is True  # B's next call sees the failures...
    assert b.step("succeed") is True  # ...and its success clears them

    assert a.step("fail once") is True
    assert a.step("fail once") is True  # two in a row again, not four: still closed
    assert b.step("check") is True
    assert a.step("fail once") is False  # the third in a row opens it
