"""An operator (or the test suite, between tests) can forget every model breaker and pace:
after ``reset`` an opened circuit lets calls through and a paused credential is not paused,
in Redis and in memory, and keys of another prefix (another deployment) are left alone."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

from runs.circuits import RedisCircuits
from runs.engine.circuits import CircuitPolicy, LocalCircuits
from runs.engine.ratelimits import LocalRateLimits
from runs.ratelimits import RedisRateLimits

POLICY = CircuitPolicy(failures=2, cooldown_s=60.0)


def open_and_pause(circuits, limits) -> None:
    for _ in range(2):
        circuits.record("secret:7", ok=False)
    limits.pause("secret:7", 60)
    assert not circuits.allows("secret:7") and limits.paused_for("secret:7") > 50


@pytest.mark.redis
def test_reset_closes_redis_circuits_and_lifts_pauses_of_its_prefix_only() -> None:
    url = os.environ["REDIS_URL"]
    ours, theirs = f"test-{uuid.uuid4().hex}", f"test-{uuid.uuid4().hex}"
    circuits, limits = RedisCircuits(url, ours, POLICY), RedisRateLimits(url, ours)
    other_circuits, other_limits = RedisCircuits(url, theirs, POLICY), RedisRateLimits(url, theirs)
    open_and_pause(circuits, limits)
    open_and_pause(other_circuits, other_limits)

    circuits.reset()
    limits.reset()

    assert circuits.allows("secret:7") and limits.paused_for("secret:7") == 0
    assert not other_circuits.allows("secret:7") and other_limits.paused_for("secret:7") > 50
    other_circuits.reset()
    other_limits.reset()
    assert not redis.Redis.from_url(url).keys(f"{theirs}:*")


def test_reset_closes_circuits_and_lifts_pauses_in_memory() -> None:
    circuits, limits = LocalCircuits(POLICY), LocalRateLimits()
    open_and_pause(circuits, limits)

    circuits.reset()
    limits.reset()

    assert circuits.allows("secret:7") and limits.paused_for("secret:7") == 0
