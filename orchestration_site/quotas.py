"""Rate limits shared by the API, the pages and the websocket, on the ``limits`` library.

The counters live in Redis when ``REDIS_URL`` is set, so every web process and worker counts
against the same window; the embedded default keeps them in memory. A limit that is reached
raises ``QuotaExceeded`` with the seconds until it frees up, which the API and the pages answer
as 429 with ``Retry-After`` and the websocket as a close or an error message.

Rates are written the way ``limits`` parses them ("300/minute", "10 per 15 minutes"); an empty
rate turns that limit off.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter


class QuotaExceeded(Exception):
    """A limit is reached; ``retry_after`` is whole seconds until it frees up (at least 1)."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = max(1, math.ceil(retry_after))

    def as_json_response(self) -> JsonResponse:
        response = JsonResponse({"detail": self.detail, "problems": []}, status=429)
        response["Retry-After"] = str(self.retry_after)
        return response

    def as_page(self) -> HttpResponse:
        response = HttpResponse(self.detail, status=429, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(self.retry_after)
        return response


@dataclass(frozen=True)
class Rate:
    """One named limit: ``setting`` names the setting holding its rate."""

    setting: str
    what: str  # "API requests", said in the refusal

    def item(self) -> RateLimitItem | None:
        text = getattr(settings, self.setting, "")
        return parse(text) if text else None


API_REQUESTS = Rate("QUOTA_API_REQUESTS", "API requests")
RUN_STARTS = Rate("QUOTA_RUNS", "run starts")
WEBSOCKET_CONNECTS = Rate("QUOTA_WEBSOCKET_CONNECTS", "websocket connections")
WEBSOCKET_SUBSCRIBES = Rate("QUOTA_WEBSOCKET_SUBSCRIBES", "websocket subscriptions")
LOGINS_PER_IP = Rate("LOGIN_RATE_PER_IP", "log-in attempts from this address")
LOGINS_PER_USERNAME = Rate("LOGIN_RATE_PER_USERNAME", "log-in attempts for this username")
SIGNUPS_PER_IP = Rate("SIGNUP_RATE_PER_IP", "sign-ups from this address")
MODEL_TESTS = Rate("QUOTA_MODEL_TESTS", "connection tests")


@functools.cache
def _limiter(url: str) -> MovingWindowRateLimiter:
    storage: Storage = (
        RedisStorage(url, key_prefix=settings.QUOTA_KEY_PREFIX) if url else MemoryStorage()
    )
    return MovingWindowRateLimiter(storage)


def limiter() -> MovingWindowRateLimiter:
    return _limiter(settings.REDIS_URL)


def hit(rate: Rate, *identifiers: object, cost: int = 1) -> None:
    """Count ``cost`` uses of ``rate`` by ``identifiers`` (a user id, an address); raises
    ``QuotaExceeded`` instead, counting none, when the window cannot hold them."""
    item = rate.item()
    if item is None:
        return
    keys = [rate.setting, *map(str, identifiers)]
    if limiter().hit(item, *keys, cost=cost):
        return
    reset_at = limiter().get_window_stats(item, *keys).reset_time
    raise QuotaExceeded(
        f"Too many {rate.what}: the limit is {item.amount} per {_window(item)}. "
        "Try again after the time in Retry-After.",
        reset_at - time.time(),
    )


def reset() -> None:
    """Forget every count (tests, and an operator clearing a mistaken lock-out)."""
    limiter().storage.reset()


def client_address(request: HttpRequest) -> str:
    """The caller's address as the server saw it; behind a proxy, daphne's
    ``--proxy-headers`` (or the WSGI server's equivalent) puts the client's there."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def _window(item: RateLimitItem) -> str:
    seconds = item.get_expiry()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            count = seconds // size
            return unit if count == 1 else f"{count} {unit}s"
    return f"{seconds} seconds"
