"""Rate limits per model credential, in process (the embedded default; the shell has a Redis
one, ``runs/ratelimits.py``, that every worker process shares, with the same rules).

A credential may have a limit on requests and on tokens per minute. Callers do not try and
back off: each one *reserves* the next free slot and is told how long to wait for it, so calls
leave evenly spaced at the limit (no burst, no storm of retries) and a crowd of runs queues in
the order it asked. A 429 (or a provider's headers saying nothing is left) pauses the
credential for everyone until the time the server named; slots reserved inside the pause are
given up and reserved again after it (``activities._wait_for_capacity``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Limit:
    """Requests and tokens per minute; None: not limited (pauses after a 429 still apply)."""

    rpm: int | None = None
    tpm: int | None = None

    def spacing_s(self, tokens: int) -> tuple[float, float]:
        """(seconds one request takes of the request budget, seconds ``tokens`` take of the
        token budget)."""
        per_request = 60.0 / self.rpm if self.rpm else 0.0
        per_tokens = 60.0 * tokens / self.tpm if self.tpm else 0.0
        return per_request, per_tokens


@dataclass
class _Bucket:
    requests_free_at: float = 0.0
    tokens_free_at: float = 0.0
    paused_until: float = 0.0


@dataclass
class LocalRateLimits:
    """Every credential's limiter in this process."""

    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def limiter(self, name: str, limit: Limit) -> LocalRateLimit:
        return LocalRateLimit(self, name, limit)

    def reserve(self, name: str, limit: Limit, tokens: int) -> float:
        bucket = self._buckets.setdefault(name, _Bucket())
        now = self.clock()
        slot = max(now, bucket.paused_until, bucket.requests_free_at, bucket.tokens_free_at)
        per_request, per_tokens = limit.spacing_s(tokens)
        bucket.requests_free_at, bucket.tokens_free_at = slot + per_request, slot + per_tokens
        return slot - now

    def pause(self, name: str, seconds: float) -> None:
        bucket = self._buckets.setdefault(name, _Bucket())
        bucket.paused_until = max(bucket.paused_until, self.clock() + seconds)

    def paused_for(self, name: str) -> float:
        bucket = self._buckets.get(name)
        return max(0.0, bucket.paused_until - self.clock()) if bucket else 0.0

    def reset(self) -> None:
        self._buckets.clear()


@dataclass(frozen=True)
class LocalRateLimit:
    """Implements ``interfaces.RateLimit`` for one credential of a ``LocalRateLimits``."""

    limits: LocalRateLimits
    name: str
    limit: Limit

    async def reserve(self, tokens: int) -> float:
        return self.limits.reserve(self.name, self.limit, tokens)

    async def pause(self, seconds: float) -> None:
        self.limits.pause(self.name, seconds)

    async def paused_for(self) -> float:
        return self.limits.paused_for(self.name)
