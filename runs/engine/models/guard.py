"""What every provider that calls a model server shares: a guarded HTTP client for the SDK,
the check of where a key may go, the mapping of HTTP statuses to retryable or final, and the
sanitising of what a server said before a user sees it.

The client is the one the ``openai`` provider sends with (aiohttp under ``httpx2``, the
``GuardedResolver`` on its connector, every body capped at ``max_bytes``, redirects never
followed, nothing from the environment), so the ``anthropic`` and ``gemini`` SDKs, which
accept an ``httpx2.AsyncClient``, connect only where the network policy allows.
"""

from __future__ import annotations

import datetime
import email.utils
import ipaddress
import re
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any, TypeVar

import aiohttp
import httpx
import httpx2
import openai
from openai._vendor.httpx_aiohttp import AiohttpTransport

from ..interfaces import DeltaCallback, ModelError, ModelRequest, ModelResponse
from ..tools.netguard import BlockedAddress, GuardedResolver, NetworkPolicy

TRANSIENT_STATUSES = frozenset({408, 409, 429})
# Errors while a stream is read come from the HTTP library the client sends with: httpx2 in
# the SDK releases built on it, httpx in older ones, each mapped from aiohttp's by the
# client's transport; an aiohttp error it does not map comes through as it is.
_READ_ERRORS: tuple[type[Exception], ...] = (
    httpx.RequestError, aiohttp.ClientError, httpx2.RequestError,
)  # fmt: skip

#: What users are shown of a server's own words, at most.
MAX_SHOWN_CHARS = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Credentials a server may echo: an Authorization value, a key=value pair, a key-shaped word.
_BEARER = re.compile(r"\b(bearer|basic)\s+[^\s\"',]+", re.I)
_KEY_VALUE = re.compile(
    r"\b(api[-_]?key|token|secret|password)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+", re.I
)
_KEY_LIKE = re.compile(r"\b(sk|ak|pk|rk|key)[-_][A-Za-z0-9_\-]{12,}")


class GuardedTransport(AiohttpTransport):
    """The client's aiohttp transport with the network guard on its connector and a size cap
    on every response body it hands back."""

    def __init__(self, network: NetworkPolicy, max_bytes: int) -> None:
        super().__init__(trust_env=False, limits=openai.DEFAULT_CONNECTION_LIMITS)
        self._network, self._max_bytes = network, max_bytes

    def get_client(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
            resolver=GuardedResolver(self._network),
        )
        return aiohttp.ClientSession(connector=connector, trust_env=False)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        response.stream = _CappedStream(response.stream, self._max_bytes)
        return response


class _CappedStream(httpx2.AsyncByteStream):
    def __init__(self, stream: Any, max_bytes: int) -> None:
        self._stream, self._max_bytes = stream, max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        async for chunk in self._stream:
            received += len(chunk)
            if received > self._max_bytes:
                raise ModelError(
                    f"The model server's answer passed {self._max_bytes:,} bytes; it was cut "
                    "off. Ask for a shorter answer, or the operator can raise "
                    "MODEL_ANSWER_MAX_BYTES.",
                    transient=False,
                )
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


def blocked_by_guard(exc: BaseException) -> BlockedAddress | None:
    """The guard's refusal behind a connection error, if that is what it was."""
    return cause(exc, BlockedAddress)


def cause(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` in ``exc``'s chain of causes (``exc`` included)."""
    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:
        if isinstance(seen, kind):
            return seen
        visited.add(id(seen))
        seen = seen.__cause__ or seen.__context__
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    return True


_E = TypeVar("_E", bound=BaseException)

#: The longest wait a server's ``Retry-After`` may ask for that the engine honours.
MAX_RETRY_AFTER_S = 120.0


def guarded_client(network: NetworkPolicy, max_bytes: int, timeout_s: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(
        transport=GuardedTransport(network, max_bytes),
        timeout=timeout_s,
        follow_redirects=False,
        trust_env=False,
        limits=openai.DEFAULT_CONNECTION_LIMITS,
    )


def check_destination(url: str, key_hosts: frozenset[str] | None, network: NetworkPolicy) -> None:
    """Refuses, before anything is sent, a key bound to other hosts, and an IP-address host
    the guard does not allow (aiohttp asks the guarded resolver about names only)."""
    parsed = httpx.URL(url)
    host = parsed.host.lower().rstrip(".")
    if key_hosts is not None and host not in key_hosts:
        raise ModelError(
            f"Refused to send this model's key to {host}: it may only be sent to "
            f"{', '.join(sorted(key_hosts)) or 'no host'}.",
            transient=False,
        )
    if not _is_address(host):
        return
    try:
        network.resolve(host, parsed.port or 0)  # an address: no lookup, a check
    except BlockedAddress as exc:
        raise ModelError(str(exc), transient=False) from None


def unreachable(exc: BaseException, *, timed_out: bool, max_s: float) -> ModelError:
    """A call that failed before a whole answer came: cut off at ``max_s``, refused by the
    guard, cut off at the byte cap while the SDK read it, or the server was unreachable."""
    if timed_out:
        return ModelError(
            f"The model server's answer took longer than {max_s:g} s in all; it was cut off.",
            transient=False,
        )
    blocked = blocked_by_guard(exc)
    if blocked is not None:
        return ModelError(str(blocked), transient=False)
    capped = cause(exc, ModelError)
    if capped is not None:
        return capped
    return ModelError(f"Could not reach the model server: {exc}", transient=True)


def is_transient(status: int) -> bool:
    """429, 408, 409 and every 5xx (Anthropic's 529 "overloaded" too) are worth retrying."""
    return status in TRANSIENT_STATUSES or status >= 500


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """What a server's ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms`` asks
    for, capped at ``MAX_RETRY_AFTER_S``; None when it says nothing usable."""
    if not headers:
        return None
    seconds: float | None = None
    try:
        if headers.get("retry-after-ms"):
            seconds = float(headers["retry-after-ms"]) / 1000
        elif headers.get("retry-after"):
            raw = headers["retry-after"]
            try:
                seconds = float(raw)
            except ValueError:
                when = email.utils.parsedate_to_datetime(raw)
                seconds = when.timestamp() - time.time()
    except (ValueError, TypeError, OverflowError):
        return None
    if seconds is None or seconds != seconds or seconds < 0:  # NaN and the past say nothing
        return None
    return min(seconds, MAX_RETRY_AFTER_S)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def exhausted_for_s(headers: Mapping[str, str] | None) -> float | None:
    """When a provider's rate-limit headers say the key has no requests or no tokens left:
    the seconds until they come back (the later of the two, capped at ``MAX_RETRY_AFTER_S``);
    else None. OpenAI-compatible servers send ``x-ratelimit-remaining-requests`` /
    ``-tokens`` and ``x-ratelimit-reset-requests`` / ``-tokens`` (a duration such as ``6m0s``
    or ``20ms``); Anthropic ``anthropic-ratelimit-requests-remaining`` / ``tokens-remaining``
    and ``-reset`` (an RFC 3339 time)."""
    if not headers:
        return None
    waits = [_exhausted_s(headers, budget) for budget in ("requests", "tokens")]
    known = [s for s in waits if s is not None]
    return min(max(known), MAX_RETRY_AFTER_S) if known else None


def _exhausted_s(headers: Mapping[str, str], budget: str) -> float | None:
    try:
        if headers.get(f"x-ratelimit-remaining-{budget}", "").strip() == "0":
            parts = _DURATION_PART.findall(headers.get(f"x-ratelimit-reset-{budget}", ""))
            seconds = sum(float(n) * _UNIT_S[unit] for n, unit in parts)
        elif headers.get(f"anthropic-ratelimit-{budget}-remaining", "").strip() == "0":
            raw = headers.get(f"anthropic-ratelimit-{budget}-reset", "")
            when = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            seconds = when.timestamp() - time.time()
        else:
            return None
    except (ValueError, TypeError, OverflowError):
        return None
    if seconds != seconds or seconds <= 0:
        return None
    return seconds


def clean(message: str, api_key: str | None) -> str:
    """What a user may see of an error: no key, no credentials, no control characters, at
    most ``MAX_SHOWN_CHARS``."""
    if api_key and len(api_key) >= 4:
        message = message.replace(api_key, "[redacted]")
    message = _BEARER.sub(lambda m: f"{m.group(1)} [redacted]", message)
    message = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", message)
    message = _KEY_LIKE.sub("[redacted]", message)
    message = _CONTROL.sub(" ", message).strip()
    if len(message) > MAX_SHOWN_CHARS:
        message = message[: MAX_SHOWN_CHARS - 1].rstrip() + "…"
    return message


def cleaned(error: ModelError, api_key: str | None) -> ModelError:
    return ModelError(
        clean(str(error), api_key),
        transient=error.transient,
        status=error.status,
        retry_after_s=error.retry_after_s,
    )


class KeyRedacting:
    """The providers' one ``complete``: whatever ``_complete`` raises as a ``ModelError``
    leaves with the provider's key taken out of its text (servers echo keys back)."""

    _api_key: str | None

    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None = None
    ) -> ModelResponse:
        try:
            return await self._complete(request, on_delta)
        except ModelError as exc:
            raise cleaned(exc, self._api_key) from None

    async def _complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None
    ) -> ModelResponse:
        raise NotImplementedError
