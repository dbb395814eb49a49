"""A model call's circuit check and its rate-limit reservation are one Redis round trip
(``RedisCircuit.allows_and_reserve``): a call the circuit lets through holds its slot, so the
next call waits for the one after it; a call the open circuit refuses holds no slot, so it
delays nobody; the half-open probe goes to one caller only, as with ``allows``."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from runs.circuits import RedisCircuits
from runs.engine.circuits import CircuitPolicy
from runs.engine.ratelimits import Limit
from runs.ratelimits import RedisRateLimits

pytestmark = pytest.mark.redis


@pytest.fixture
def redis_pair():
    prefix = f"test-gate-{uuid.uuid4().hex}"
    circuits = RedisCircuits(os.environ["REDIS_URL"], f"{prefix}:c", CircuitPolicy(2, 0.3))
    limits = RedisRateLimits(os.environ["REDIS_URL"], f"{prefix}:r")
    yield circuits, limits
    circuits.reset()
    limits.reset()


async def test_an_allowed_call_holds_its_slot(redis_pair) -> None:
    circuits, limits = redis_pair
    circuit = circuits.circuit("credential:k")
    limit = limits.limiter("credential:k", Limit(rpm=60))  # one call a second
    assert await circuit.allows_and_reserve(limit, 10) == 0
    second = await circuit.allows_and_reserve(limit, 10)
    assert second is not None and 0.9 <= second <= 1.0  # behind the first one's slot


async def test_a_refused_call_holds_no_slot_and_one_caller_probes(redis_pair) -> None:
    circuits, limits = redis_pair
    circuit = circuits.circuit("credential:k")
    limit = limits.limiter("credential:k", Limit(rpm=60))
    for _ in range(2):
        await circuit.record(False)
    assert await circuit.allows_and_reserve(limit, 10) is None  # open
    assert await limit.reserve(10) == 0  # the refused call took no slot
    await asyncio.sleep(0.35)  # the cool-down passes: half-open
    unlimited = limits.limiter("credential:free", Limit())
    assert await circuit.allows_and_reserve(unlimited, 10) == 0  # the probe
    assert await circuit.allows_and_reserve(unlimited, 10) is None  # no second probe
