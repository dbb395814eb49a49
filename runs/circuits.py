"""Circuit breakers for model credentials, shared by every worker process through Redis
(``runs.engine.circuits`` has the in-process ones the embedded default uses, and the rules).

One credential's circuit is four keys under ``<prefix>:<credential>``: ``failures`` (retryable
failures in a row), ``open`` (set for the cool-down), ``half`` (set once it has opened: the
next call after the cool-down is a probe) and ``probe`` (taken by the one caller allowed to
probe). Redis being down never stops a run: the breaker then lets every call through.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import redis
from django.conf import settings

from .engine.circuits import CircuitPolicy, LocalCircuits
from .engine.interfaces import Circuit
from .ratelimits import delete_under

log = logging.getLogger(__name__)
_DAY_MS = 86_400_000


class RedisCircuits:
    def __init__(self, url: str, prefix: str, policy: CircuitPolicy) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._prefix, self.policy = prefix, policy

    def circuit(self, name: str) -> RedisCircuit:
        return RedisCircuit(self, name)

    def _keys(self, name: str) -> tuple[str, str, str, str]:
        base = f"{self._prefix}:{name}"
        return f"{base}:failures", f"{base}:open", f"{base}:half", f"{base}:probe"

    def allows(self, name: str) -> bool:
        _, opened, half, probe = self._keys(name)
        try:
            pipe = self._redis.pipeline()
            pipe.exists(opened)
            pipe.exists(half)
            is_open, is_half = pipe.execute()
            if is_open:
                return False
            cooldown_ms = int(self.policy.cooldown_s * 1000)
            return not is_half or bool(self._redis.set(probe, 1, nx=True, px=cooldown_ms))
        except redis.RedisError as exc:
            log.warning("Circuit breaker unavailable, letting the call through: %s", exc)
            return True

    def open_for(self, name: str) -> float:
        try:
            ms = int(self._redis.pttl(self._keys(name)[1]))
        except redis.RedisError as exc:
            log.warning("Circuit breaker unavailable, not waiting for it: %s", exc)
            return 0.0
        return max(0, ms) / 1000  # -2: no such key (not open); -1 cannot happen (set with PX)

    def record(self, name: str, ok: bool) -> None:
        failures, opened, half, probe = self._keys(name)
        try:
            if ok:
                self._redis.delete(failures, opened, half, probe)
                return
            cooldown_ms = int(self.policy.cooldown_s * 1000)
            pipe = self._redis.pipeline()
            pipe.incr(failures)
            pipe.pexpire(failures, _DAY_MS)
            pipe.exists(half)
            count, _, is_half = pipe.execute()
            if is_half or count >= self.policy.failures:
                pipe = self._redis.pipeline()
                pipe.set(opened, 1, px=cooldown_ms)
                pipe.set(half, 1, px=_DAY_MS)
                pipe.delete(failures, probe)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("Circuit breaker unavailable, outcome not recorded: %s", exc)

    def reset(self) -> None:
        delete_under(self._redis, self._prefix)


@dataclass(frozen=True)
class RedisCircuit:
    """Implements ``runs.engine.interfaces.Circuit`` for one credential."""

    circuits: RedisCircuits
    name: str

    async def allows(self) -> bool:
        # One local round trip: cheaper than handing it to a thread.
        return self.circuits.allows(self.name)

    async def record(self, ok: bool) -> None:
        self.circuits.record(self.name, ok)

    async def open_for(self) -> float:
        return self.circuits.open_for(self.name)


@functools.cache
def circuits() -> RedisCircuits | LocalCircuits:
    """The process's breakers: in Redis when the deployment has it, else in memory."""
    policy = CircuitPolicy(settings.MODEL_CIRCUIT_FAILURES, settings.MODEL_CIRCUIT_COOLDOWN_S)
    if settings.REDIS_URL:
        return RedisCircuits(settings.REDIS_URL, settings.MODEL_CIRCUIT_PREFIX, policy)
    return LocalCircuits(policy)


def circuit_for(name: str) -> Circuit:
    return circuits().circuit(name)


def reset() -> None:
    """Close every circuit (tests, and an operator who fixed what opened them)."""
    circuits().reset()
