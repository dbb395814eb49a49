"""Rate limits for model credentials, shared by every worker process through Redis
(``runs.engine.ratelimits`` has the in-process ones the embedded default uses, and the rules).

One credential's limiter is three keys under ``<prefix>:<credential>``: ``requests`` and
``tokens`` (when the next call may go by each budget, in ms of Redis's clock) and ``paused``
(until when a 429 stopped everyone). A reservation is one Lua script, so two workers asking at
once get two different slots; every time is Redis's own (``TIME``), so the workers' clocks
need not agree. Redis being down never stops a run: the call then goes without waiting.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import redis
from django.conf import settings

from .engine.interfaces import RateLimit
from .engine.ratelimits import Limit, LocalRateLimits

log = logging.getLogger(__name__)

# KEYS: requests, tokens, paused. ARGV: ms per request, ms the call's tokens take.
# Returns the ms until the call's slot, which it now holds.
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local slot = now
for _, key in ipairs(KEYS) do
  local at = tonumber(redis.call('GET', key) or '0')
  if at > slot then slot = at end
end
local spacing = {tonumber(ARGV[1]), tonumber(ARGV[2])}
for i = 1, 2 do
  if spacing[i] > 0 then
    redis.call('SET', KEYS[i], slot + spacing[i], 'PX', slot + spacing[i] - now + 60000)
  end
end
return slot - now
"""

# KEYS: paused. ARGV: ms (0: only ask). Returns the ms the credential stays paused.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = now + tonumber(ARGV[1])
if tonumber(ARGV[1]) > 0 and wanted > at then
  redis.call('SET', KEYS[1], wanted, 'PX', tonumber(ARGV[1]) + 60000)
  at = wanted
end
return math.max(0, at - now)
"""


class RedisRateLimits:
    def __init__(self, url: str, prefix: str) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self.url, self._prefix = url, prefix
        self._reserve = self._redis.register_script(RESERVE)
        self._pause = self._redis.register_script(_PAUSE)

    def limiter(self, name: str, limit: Limit) -> RedisRateLimit:
        return RedisRateLimit(self, name, limit)

    def keys(self, name: str) -> list[str]:
        base = f"{self._prefix}:{name}"
        return [f"{base}:requests", f"{base}:tokens", f"{base}:paused"]

    @staticmethod
    def spacing_ms(limit: Limit, tokens: int) -> list[float]:
        """The reserve script's ARGV."""
        return [round(seconds * 1000, 3) for seconds in limit.spacing_s(tokens)]

    def reserve(self, name: str, limit: Limit, tokens: int) -> float:
        try:
            args = self.spacing_ms(limit, tokens)
            return int(self._reserve(keys=self.keys(name), args=args)) / 1000
        except redis.RedisError as exc:
            log.warning("Rate limiter unavailable, letting the call through: %s", exc)
            return 0.0

    def pause(self, name: str, seconds: float) -> float:
        """Pauses the credential for ``seconds`` (0: only asks); how long it stays paused."""
        try:
            ms = max(0, round(seconds * 1000))
            return int(self._pause(keys=self.keys(name)[2:], args=[ms])) / 1000
        except redis.RedisError as exc:
            log.warning("Rate limiter unavailable, pause not shared: %s", exc)
            return 0.0

    def paused_for(self, name: str) -> float:
        return self.pause(name, 0)

    def reset(self) -> None:
        delete_under(self._redis, self._prefix)


def delete_under(client: redis.Redis, prefix: str) -> None:
    """Delete every key under ``prefix:`` (what a reset of limiters or breakers forgets)."""
    for keys in _chunks(client.scan_iter(match=f"{prefix}:*", count=500), 500):
        client.delete(*keys)


def _chunks(items: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class RedisRateLimit:
    """Implements ``runs.engine.interfaces.RateLimit`` for one credential."""

    limits: RedisRateLimits
    name: str
    limit: Limit

    async def reserve(self, tokens: int) -> float:
        # One local round trip: cheaper than handing it to a thread.
        return self.limits.reserve(self.name, self.limit, tokens)

    async def pause(self, seconds: float) -> None:
        self.limits.pause(self.name, seconds)

    async def paused_for(self) -> float:
        return self.limits.paused_for(self.name)


@functools.cache
def rate_limits() -> RedisRateLimits | LocalRateLimits:
    """The process's limiters: in Redis when the deployment has it, else in memory."""
    if settings.REDIS_URL:
        return RedisRateLimits(settings.REDIS_URL, settings.MODEL_RATE_LIMIT_PREFIX)
    return LocalRateLimits()


def rate_limit_for(name: str, limit: Limit) -> RateLimit:
    return rate_limits().limiter(name, limit)


def reset() -> None:
    """Forget every pace and pause (tests, and an operator clearing a mistaken pause)."""
    rate_limits().reset()
