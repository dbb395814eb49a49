"""Circuit breakers for model credentials, shared by every worker process through Redis
(``runs.engine.circuits`` has the in-process ones the embedded default uses, and the rules).

One credential's circuit is four keys under ``<prefix>:<credential>``: ``failures`` (retryable
failures in a row), ``open`` (set for the cool-down), ``half`` (set once it has opened: the
next call after the cool-down is a probe) and ``probe`` (taken by the one caller allowed to
probe). Redis being down never stops a run: the breaker then lets every call through.

A call's check is one Lua script. A success clears the failures only when that check found
any (or the circuit half-open): a success of a call that started on a clean circuit, while
failures elsewhere began, leaves them counted, as if it had finished before them. That saves
a round trip per call on a healthy provider, where nearly every call finds it clean.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import redis
from django.conf import settings

from .engine.circuits import CircuitPolicy, LocalCircuits, allows_then_reserve
from .engine.interfaces import Circuit, RateLimit
from .ratelimits import RESERVE, RedisRateLimit, delete_under

log = logging.getLogger(__name__)
_DAY_MS = 86_400_000

# KEYS: failures, open, half, probe. ARGV: the cool-down in ms. One round trip for a call's
# check: refused while open; after the cool-down (half-open) only the one caller that takes
# the probe goes; else the call goes, and the answer says whether there were failures.
_ALLOWS = """
if redis.call('EXISTS', KEYS[2]) == 1 then return -1 end
if redis.call('EXISTS', KEYS[3]) == 1 then
  if redis.call('SET', KEYS[4], 1, 'NX', 'PX', ARGV[1]) then return 1 end
  return -1
end
return redis.call('EXISTS', KEYS[1])
"""
_REFUSED, _CLEAN = -1, 0

# KEYS: the circuit's four, then the limiter's three. ARGV: the cool-down, then the reserve's
# two. A call's check and its rate-limit slot in one round trip: {the check's answer, the ms
# until the slot}; nothing is reserved when the check refuses.
_ALLOWS_AND_RESERVE = f"""
local function allows(KEYS, ARGV)
{_ALLOWS}
end
local function reserve(KEYS, ARGV)
{RESERVE}
end
local state = allows({{KEYS[1], KEYS[2], KEYS[3], KEYS[4]}}, {{ARGV[1]}})
if state == {_REFUSED} then return {{state, 0}} end
return {{state, reserve({{KEYS[5], KEYS[6], KEYS[7]}}, {{ARGV[2], ARGV[3]}})}}
"""


class RedisCircuits:
    def __init__(self, url: str, prefix: str, policy: CircuitPolicy) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.url, self._prefix, self.policy = url, prefix, policy
        self._cooldown_ms = int(policy.cooldown_s * 1000)
        self._allows = self._redis.register_script(_ALLOWS)
        self._allows_and_reserve = self._redis.register_script(_ALLOWS_AND_RESERVE)
        # The circuits whose last check in this process found no failure, no half-open
        # state and no cool-down: a success then has nothing to clear, and skips the
        # round trip that would clear it (most calls, on a healthy provider).
        self._clean: set[str] = set()

    def circuit(self, name: str) -> RedisCircuit:
        return RedisCircuit(self, name)

    def _keys(self, name: str) -> tuple[str, str, str, str]:
        base = f"{self._prefix}:{name}"
        return f"{base}:failures", f"{base}:open", f"{base}:half", f"{base}:probe"

    def allows(self, name: str) -> bool:
        try:
            state = int(self._allows(keys=self._keys(name), args=[self._cooldown_ms]))
        except redis.RedisError as exc:
            log.warning("Circuit breaker unavailable, letting the call through: %s", exc)
            self._clean.discard(name)
            return True
        self._note(name, state)
        return state != _REFUSED

    def allows_and_reserve(self, name: str, limiter: RedisRateLimit, tokens: int) -> float | None:
        """``allows`` and, when it allows, the limiter's ``reserve``, in one round trip (the
        limiter's keys live in the same Redis)."""
        keys = [*self._keys(name), *limiter.limits.keys(limiter.name)]
        try:
            args = [self._cooldown_ms, *limiter.limits.spacing_ms(limiter.limit, tokens)]
            state, wait_ms = (int(n) for n in self._allows_and_reserve(keys=keys, args=args))
        except redis.RedisError as exc:
            log.warning("Circuit breaker unavailable, letting the call through: %s", exc)
            self._clean.discard(name)
            return 0.0
        self._note(name, state)
        return None if state == _REFUSED else wait_ms / 1000

    def _note(self, name: str, state: int) -> None:
        if state == _CLEAN:
            self._clean.add(name)
        else:
            self._clean.discard(name)

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
                # Nothing to clear when this call's own check found the circuit clean.
                if name not in self._clean:
                    self._redis.delete(failures, opened, half, probe)
                    self._clean.add(name)
                return
            self._clean.discard(name)
            pipe = self._redis.pipeline()
            pipe.incr(failures)
            pipe.pexpire(failures, _DAY_MS)
            pipe.exists(half)
            count, _, is_half = pipe.execute()
            if is_half or count >= self.policy.failures:
                pipe = self._redis.pipeline()
                pipe.set(opened, 1, px=self._cooldown_ms)
                pipe.set(half, 1, px=_DAY_MS)
                pipe.delete(failures, probe)
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("Circuit breaker unavailable, outcome not recorded: %s", exc)

    def reset(self) -> None:
        delete_under(self._redis, self._prefix)
        self._clean.clear()


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

    async def allows_and_reserve(self, rate_limit: RateLimit, tokens: int) -> float | None:
        if isinstance(rate_limit, RedisRateLimit) and rate_limit.limits.url == self.circuits.url:
            return self.circuits.allows_and_reserve(self.name, rate_limit, tokens)
        return await allows_then_reserve(self, rate_limit, tokens)


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
