"""The ``anthropic`` provider: the official ``anthropic`` SDK and its Messages API.

It always streams (text deltas reach the run page as they are written), assembles tool calls
from their ``input_json_delta`` fragments (several per turn), asks for JSON-schema output with
``output_config.format`` when the agent has an output schema, marks the system prompt and the
tools with ``cache_control`` so a long agent loop reads them from the prompt cache, and counts
cache reads and writes apart in the usage. Errors map onto retryable (429, 408, 409, 5xx and
529 "overloaded", connection errors, timeouts, an error event or a stream cut short), with the
server's ``Retry-After``, and final ones (400, 401, 403, 404, ...). A successful answer's
``anthropic-ratelimit-*`` headers saying no requests or tokens are left pause the credential's
rate limiter until their reset time (``ModelResponse.exhausted_for_s``).

The SDK sends through ``guard.guarded_client``: the network guard on every connection, the
answer capped at ``max_answer_bytes`` and ``max_answer_s``, redirects never followed, and what
a server says reaches users only sanitised (``guard.clean``). The SDK's own retries are off:
retries are the engine's (recorded, with seeded jitter).
"""

from __future__ import annotations

import asyncio
import json
import os
import weakref
from typing import Any

import anthropic

from ..interfaces import (
    ChatMessage,
    DeltaCallback,
    ModelError,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
)
from ..tools.netguard import NetworkPolicy
from .guard import (
    _READ_ERRORS,
    MAX_SHOWN_CHARS,
    KeyRedacting,
    check_destination,
    exhausted_for_s,
    guarded_client,
    is_transient,
    retry_after_s,
    unreachable,
)
from .openai_provider import wire_names

DEFAULT_BASE_URL = "https://api.anthropic.com"
#: The Messages API requires a cap on the answer's length; agents' answers rarely come near it.
DEFAULT_MAX_TOKENS = 8192
_CACHED = {"type": "ephemeral"}
_UNREACHABLE: tuple[type[Exception], ...] = (
    anthropic.APIConnectionError,
    TimeoutError,
    *_READ_ERRORS,
)
_FINISH = {"end_turn": "stop", "tool_use": "tool_calls", "max_tokens": "length"}


class AnthropicProvider(KeyRedacting):
    def __init__(
        self,
        *,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout_s: float = 120.0,
        network: NetworkPolicy | None = None,
        key_hosts: frozenset[str] | None = None,
        max_answer_bytes: int = 16_000_000,
        max_answer_s: float = 600.0,
        max_tokens: int = DEFAULT_MAX_TOKENS,
    ) -> None:
        self.model = model
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._api_key, self._timeout_s = api_key, timeout_s
        self._network = network or NetworkPolicy()
        self._key_hosts = key_hosts
        self._max_bytes, self._max_s, self._max_tokens = max_answer_bytes, max_answer_s, max_tokens
        # One client per event loop: aiohttp binds its pool to the loop it first runs on.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any]
        self._clients = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"AnthropicProvider(model={self.model!r}, base_url={self._base_url!r})"

    def _client(self) -> anthropic.AsyncAnthropic:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed():
            client = self._clients[loop] = anthropic.AsyncAnthropic(
                base_url=self._base_url,
                api_key=self._api_key or "not-needed",
                max_retries=0,
                timeout=self._timeout_s,
                http_client=guarded_client(self._network, self._max_bytes, self._timeout_s),
            )
            _open.setdefault(loop, []).append(client)
        return client

    async def _complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None
    ) -> ModelResponse:
        check_destination(self._base_url, self._key_hosts, self._network)
        try:
            async with asyncio.timeout(self._max_s) as deadline:
                return await self._stream(request, on_delta)
        except anthropic.APIStatusError as exc:
            raise _status_error(exc) from exc
        except _UNREACHABLE as exc:
            timed_out = deadline.expired()
            raise unreachable(exc, timed_out=timed_out, max_s=self._max_s) from exc
        except anthropic.AnthropicError as exc:
            raise ModelError(f"The model server answered badly: {exc}", transient=True) from exc

    async def _stream(self, request: ModelRequest, on_delta: DeltaCallback | None) -> ModelResponse:
        names = wire_names(request)
        stream = await self._client().messages.create(
            **_params(self.model, self._max_tokens, request, names),
            stream=True,
            timeout=request.timeout_s if request.timeout_s is not None else self._timeout_s,
            extra_headers=_headers(request),
        )
        turn = _Turn()
        async with stream:
            async for event in stream:
                text = turn.take(event)
                if text and on_delta is not None:
                    await on_delta(text)
        if turn.stop_reason is None:
            raise ModelError(
                "The model server's stream ended before the answer was finished.", transient=True
            )
        ours = {wire: name for name, wire in names.items()}
        calls = tuple(
            ToolCall(c["id"] or f"call_{i}", ours.get(c["name"], c["name"]), c["arguments"] or "{}")
            for i, c in enumerate(turn.calls.values())
        )
        finish = _FINISH.get(turn.stop_reason, turn.stop_reason)
        # A successful answer's anthropic-ratelimit-* headers say when the key runs dry.
        exhausted = exhausted_for_s(stream.response.headers)
        text = "".join(turn.text) or None
        return ModelResponse(text, calls, turn.usage(), finish, False, exhausted)


class _Turn:
    """What the stream's events add up to: text, tool calls by block index, usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.calls: dict[int, dict[str, str]] = {}
        self.stop_reason: str | None = None
        self._input = self._read = self._written = self._output = 0

    def take(self, event: Any) -> str | None:
        """Folds one event in; returns the text it adds, if any."""
        kind = event.type
        if kind == "message_start":
            self._count(event.message.usage)
        elif kind == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self.calls[event.index] = {"id": block.id, "name": block.name, "arguments": ""}
        elif kind == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta" and delta.text:
                self.text.append(delta.text)
                return str(delta.text)
            if delta.type == "input_json_delta" and event.index in self.calls:
                self.calls[event.index]["arguments"] += delta.partial_json
        elif kind == "message_delta":
            self.stop_reason = event.delta.stop_reason or self.stop_reason
            self._count(event.usage)
        return None

    def _count(self, usage: Any) -> None:
        # message_start carries the input side, message_delta the (cumulative) output and,
        # on some servers, the input again: the latest non-empty figure wins.
        self._input = getattr(usage, "input_tokens", None) or self._input
        self._read = getattr(usage, "cache_read_input_tokens", None) or self._read
        self._written = getattr(usage, "cache_creation_input_tokens", None) or self._written
        self._output = getattr(usage, "output_tokens", None) or self._output

    def usage(self) -> Usage:
        # Anthropic counts cache reads and writes apart from input_tokens; ours includes them.
        total = self._input + self._read + self._written
        return Usage(total, self._output, self._read, self._written)


# Every client made on each loop, kept (even when its provider is gone) to be closed with it.
_open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[anthropic.AsyncAnthropic]]
_open = weakref.WeakKeyDictionary()


async def close_all() -> None:
    """Close the connections every provider holds on the running loop (before it ends)."""
    for client in _open.pop(asyncio.get_running_loop(), []):
        await client.close()


def _status_error(exc: anthropic.APIStatusError) -> ModelError:
    status = exc.status_code
    body: dict[str, Any] = exc.body if isinstance(exc.body, dict) else {}
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    said = error.get("message") if isinstance(error.get("message"), str) else exc.message
    # An error event inside a 200 stream (overloaded_error, api_error) is worth retrying.
    transient = is_transient(status) or status == 200
    return ModelError(
        f"The model server answered HTTP {status}: {str(said)[:MAX_SHOWN_CHARS]}",
        transient=transient,
        status=status,
        retry_after_s=retry_after_s(exc.response.headers),
    )


def _headers(request: ModelRequest) -> dict[str, Any]:
    # The SDK adds every header in the worker's ANTHROPIC_CUSTOM_HEADERS to each request: the
    # operator's, not for the servers users point their models at. ``Omit`` removes them.
    headers: dict[str, Any] = {name: anthropic.Omit() for name in _environment_headers()}
    if request.activity_key:
        headers["X-Activity-Key"] = request.activity_key
        headers["X-Attempt"] = str(request.attempt)
    return headers


def _environment_headers() -> list[str]:
    raw = os.environ.get("ANTHROPIC_CUSTOM_HEADERS", "")
    return [line.partition(":")[0].strip() for line in raw.split("\n") if ":" in line]


def _params(
    model: str, max_tokens: int, request: ModelRequest, names: dict[str, str]
) -> dict[str, Any]:
    system = "\n\n".join(m.content or "" for m in request.messages if m.role == "system")
    params: dict[str, Any] = {
        "model": request.model or model,
        "max_tokens": max_tokens,
        "messages": _messages(request.messages, names),
    }
    if system:
        params["system"] = [{"type": "text", "text": system, "cache_control": _CACHED}]
    if request.tools:
        tools = [
            {"name": names[t.name], "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
        # A breakpoint on the last tool caches the tools and the system prompt before them.
        tools[-1]["cache_control"] = _CACHED
        params["tools"] = tools
    if request.output_schema is not None:
        params["output_config"] = {
            "format": {"type": "json_schema", "schema": request.output_schema}
        }
    if request.temperature is not None:
        params["temperature"] = request.temperature
    return params


def _messages(messages: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    """Our chat as Messages API turns: tool results become ``tool_result`` blocks of a user
    turn, and consecutive turns of one role merge (the API wants them to alternate, and the
    results of parallel tool calls in one turn)."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = _blocks(message, names)
        if not blocks:
            continue
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _blocks(message: ChatMessage, names: dict[str, str]) -> list[dict[str, Any]]:
    if message.role == "tool":
        return [
            {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id or "",
                "content": message.content or "",
            }
        ]
    blocks: list[dict[str, Any]] = []
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        blocks.append(
            {
                "type": "tool_use",
                "id": call.id,
                "name": names[call.name],
                "input": _arguments(call.arguments),
            }
        )
    return blocks


def _arguments(raw: str) -> dict[str, Any]:
    # A call whose arguments did not parse was answered with an error already; the API only
    # takes an object, so it is sent back as an empty one.
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
