"""One guarded HTTP request, read up to a size cap: what ``http_request``, ``publish`` webhooks
and custom HTTP tools share.

``settings["http_allowed_hosts"]`` (host names, ``*.example.com`` for subdomains) limits where a
request may go at all; when it is empty, any public host is allowed. Private, loopback and
link-local addresses are refused unless ``settings["allowed_private_networks"]`` lists them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx

from .netguard import BlockedAddress, NetworkPolicy, check_url, guarded_async_client
from .registry import ToolFailure

MAX_RESPONSE_BYTES = 1_000_000
REQUEST_TIMEOUT_S = 15.0
MAX_REDIRECTS = 5


async def guarded_fetch(
    method: str,
    url: str,
    settings: dict[str, Any],
    *,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One request through the network guard, read up to the size cap; failures of any kind
    become a ``ToolFailure`` that says what happened."""
    policy = NetworkPolicy.from_settings(settings)
    allowed_hosts = settings.get("http_allowed_hosts") or ()
    max_bytes = int(settings.get("http_max_bytes", MAX_RESPONSE_BYTES))

    async def check_each_hop(request: httpx.Request) -> None:
        _check_host(request.url.host, allowed_hosts)

    try:
        check_url(url, policy)  # an early, clear refusal; the guarded connection checks again
        async with guarded_async_client(
            policy,
            timeout=float(settings.get("http_timeout_s", REQUEST_TIMEOUT_S)),
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            event_hooks={"request": [check_each_hop]},
        ) as client:
            request = client.build_request(
                method, url, headers=headers, params=params,
                json=json_body if method != "GET" else None,
            )  # fmt: skip
            response = await client.send(request, stream=True)
            try:
                body, truncated = await _read_capped(response, max_bytes)
            finally:
                await response.aclose()
    except BlockedAddress as exc:
        raise ToolFailure(str(exc)) from exc
    except httpx.TimeoutException as exc:
        raise ToolFailure(f"{url} did not answer in time ({type(exc).__name__}).") from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise ToolFailure(f"The request to {url} failed: {exc}") from exc
    return _described(response, body, truncated)


def _check_host(host: str, allowed: Sequence[str]) -> None:
    if not allowed:
        return
    host = host.lower().rstrip(".")
    for entry in allowed:
        entry = entry.lower()
        if host == entry or (entry.startswith("*.") and host.endswith(entry[1:])):
            return
    raise BlockedAddress(
        f"{host} is not in the allow-list of hosts this team may call "
        f"({', '.join(allowed)}); an operator can add it to http_allowed_hosts."
    )


async def _read_capped(response: httpx.Response, max_bytes: int) -> tuple[bytes, bool]:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            return b"".join(chunks)[:max_bytes], True
    return b"".join(chunks), False


def _described(response: httpx.Response, body: bytes, truncated: bool) -> dict[str, Any]:
    content_type = response.headers.get("content-type", "")
    text = body.decode(response.encoding or "utf-8", errors="replace")
    result: dict[str, Any] = {
        "status": response.status_code,
        "ok": response.is_success,
        "url": str(response.url),
        "content_type": content_type,
        "truncated": truncated,
    }
    if "json" in content_type and not truncated:
        try:
            result["json"] = json.loads(text)
            return result
        except json.JSONDecodeError:
            pass
    result["text"] = text
    return result
