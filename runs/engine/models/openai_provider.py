"""The ``openai`` provider: the official ``openai`` client against any OpenAI-compatible server
(OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio, llama.cpp).

It always streams, so tokens reach the run page as they are written, assembles tool calls from
their streamed fragments (several per turn), asks for JSON-schema output when the agent has an
output schema, reads usage from the final chunk, and maps the client's errors onto retryable
(429, 408, 409, 5xx, connection errors, timeouts, a broken or malformed stream) and final ones.

The request goes through the client's generic ``post`` and the server-sent events are read from
the raw response, rather than through ``chat.completions.create``: create() walks every message
and tool schema through its type-driven transform and builds a pydantic model per chunk, which
together cost more CPU than everything else in a model call (benchmarks/model_call_overhead.py).
The client still builds, authenticates and sends the request and maps HTTP errors. It sends
over the client's own aiohttp transport (``openai.DefaultAioHttpClient``): aiohttp parses HTTP
in C and keeps its connections in a pool it does not scan per request, which halves the CPU of
a call against httpx's pure-Python stack with hundreds of calls in flight.

Every connection goes through the network guard (``netguard.GuardedResolver`` on the aiohttp
connector, redirects never followed, no proxies from the environment). A provider that holds a
key knows the hosts the key may be sent to and refuses any other before sending. An answer is
cut off past ``max_answer_bytes`` (counted as the bytes arrive, error bodies included) or
``max_answer_s`` in total, so a hostile server cannot stream without end. What the server said
reaches users only short and sanitised (``_clean``): never the key, never a long echo.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import weakref
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import httpx
import openai
import pydantic

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
    GuardedTransport,
    KeyRedacting,
    check_destination,
    clean,
    exhausted_for_s,
    is_transient,
    retry_after_s,
    unreachable,
)

# OpenAI-compatible servers accept function names of 1-64 letters, digits, '_' and '-'; our
# tool names may hold other characters (MCP tools are "<server>.<tool>").
_NOT_WIRE_SAFE = re.compile(r"[^A-Za-z0-9_-]")
# How long the rest of a response may take to arrive after [DONE] before the connection is
# dropped instead of kept for the next call.
_DRAIN_S = 0.1

_UNREACHABLE: tuple[type[Exception], ...] = (openai.APIConnectionError, TimeoutError, *_READ_ERRORS)


class OpenAIProvider(KeyRedacting):
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
    ) -> None:
        """``network``: where connections may go (public addresses only by default).
        ``key_hosts``: the hosts ``api_key`` may be sent to (None: no binding, for keyless)."""
        self.model = model
        self._base_url, self._api_key, self._timeout_s = base_url, api_key, timeout_s
        self._network = network or NetworkPolicy()
        self._key_hosts = key_hosts
        self._max_bytes, self._max_s = max_answer_bytes, max_answer_s
        # aiohttp binds its connection pool to the event loop it first runs on: one client per
        # loop, so a provider shared by the process works from any loop.
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Client]
        self._clients = weakref.WeakKeyDictionary()
        _providers.add(self)

    def __repr__(self) -> str:
        return f"OpenAIProvider(model={self.model!r}, base_url={self._base_url!r})"

    def _client(self) -> _Client:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = _Client(
                _new_client(self._base_url, self._api_key, self._timeout_s, self._transport())
            )
            # The URL is fixed for the client's life: checked once, and again for every call
            # until it passes (a refused client is never kept).
            self._check_destination(client.completions_url)
            self._clients[loop] = client
        return client

    def _transport(self) -> GuardedTransport:
        return GuardedTransport(self._network, self._max_bytes)

    async def close(self) -> None:
        """Close this provider's connections on the running loop."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.openai.close()

    async def _complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None
    ) -> ModelResponse:
        client = self._client()
        try:
            async with asyncio.timeout(self._max_s) as deadline:
                return await self._stream(client, request, on_delta)
        except openai.APIStatusError as exc:
            raise ModelError(
                _describe(exc),
                transient=is_transient(exc.status_code),
                status=exc.status_code,
                retry_after_s=retry_after_s(exc.response.headers),
            ) from exc
        except _UNREACHABLE as exc:
            timed_out = deadline.expired()
            raise unreachable(exc, timed_out=timed_out, max_s=self._max_s) from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"The model server answered badly: {exc}", transient=True) from exc

    def _check_destination(self, url: str) -> None:
        check_destination(url, self._key_hosts, self._network)

    def _clean(self, message: str) -> str:
        return clean(message, self._api_key)

    async def _stream(
        self, client: _Client, request: ModelRequest, on_delta: DeltaCallback | None
    ) -> ModelResponse:
        names = wire_names(request)
        # cast_to=httpx.Response: the response as it arrives, headers read, body not yet.
        response = await client.openai.post(
            client.completions_url,
            body=_body(self.model, request, names),
            options=_options(request),
            cast_to=httpx.Response,
            stream=True,
        )
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage = Usage()
        finish: str | None = None
        try:
            async with contextlib.aclosing(_chunks(response)) as chunks:
                async for chunk in chunks:
                    if chunk.usage is not None:
                        usage = chunk.usage.ours()
                    for choice in chunk.choices or ():
                        delta = choice.delta or _NO_DELTA
                        if delta.content:
                            text.append(delta.content)
                            if on_delta is not None:
                                await on_delta(delta.content)
                        for fragment in delta.tool_calls or ():
                            slot = {"id": "", "name": "", "arguments": ""}
                            _merge(calls.setdefault(fragment.index or 0, slot), fragment)
                        finish = choice.finish_reason or finish
        finally:
            await response.aclose()
        if finish is None:
            raise ModelError(
                "The model server's stream ended before the answer was finished.", transient=True
            )
        ours = {wire: name for name, wire in names.items()}
        tool_calls = tuple(
            ToolCall(c["id"] or f"call_{i}", ours.get(c["name"], c["name"]), c["arguments"])
            for i, c in sorted(calls.items())
        )
        exhausted = exhausted_for_s(response.headers)
        return ModelResponse("".join(text) or None, tool_calls, usage, finish, False, exhausted)


_providers: weakref.WeakSet[OpenAIProvider] = weakref.WeakSet()


async def close_all() -> None:
    """Close the connections every provider holds on the running loop (before the loop
    ends: the worker's shutdown, a test's teardown)."""
    for provider in list(_providers):
        await provider.close()


def _new_client(
    base_url: str | None, api_key: str | None, timeout_s: float, transport: GuardedTransport
) -> openai.AsyncOpenAI:
    # Retries are the engine's (recorded, with seeded jitter), never the client's own. A
    # redirect is never followed: the key would go where the server says.
    return openai.AsyncOpenAI(
        base_url=base_url,
        api_key=api_key or "not-needed",
        max_retries=0,
        timeout=timeout_s,
        http_client=openai.DefaultAioHttpClient(
            timeout=timeout_s, follow_redirects=False, trust_env=False, transport=transport
        ),
    )


#: The client's telemetry headers, which tell every model server the deployment's operating
#: system, processor, Python and client versions, and each call's retry count and timeout.
#: No OpenAI-compatible server needs them, and the client parses and copies every header of
#: a request several times: without these a call costs about a tenth less CPU
#: (benchmarks/model_call_overhead.py). ``Omit`` in a call's headers removes the default.
_NOT_SENT: dict[str, str | openai.Omit] = {
    f"X-Stainless-{name}": openai.Omit()
    for name in (
        "Lang", "Package-Version", "OS", "Arch", "Runtime", "Runtime-Version", "Async",
        "Retry-Count", "Read-Timeout",
    )
}  # fmt: skip


class _Client:
    """A client and the endpoint as an absolute URL, made once: the client parses a relative
    one and joins it to its base URL on every call."""

    def __init__(self, client: openai.AsyncOpenAI) -> None:
        self.openai = client
        base = client.base_url
        self.completions_url = str(base.copy_with(path=f"{base.path.rstrip('/')}/chat/completions"))


class _Function(pydantic.BaseModel):
    name: str | None = None
    arguments: str | None = None


class _ToolCallFragment(pydantic.BaseModel):
    index: int | None = None
    id: str | None = None
    function: _Function | None = None


class _Delta(pydantic.BaseModel):
    content: str | None = None
    tool_calls: list[_ToolCallFragment] | None = None


_NO_DELTA = _Delta()


class _Choice(pydantic.BaseModel):
    delta: _Delta | None = None
    finish_reason: str | None = None


class _PromptDetails(pydantic.BaseModel):
    cached_tokens: int | None = 0


class _Usage(pydantic.BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_details: _PromptDetails | None = None

    def ours(self) -> Usage:
        cached = (self.prompt_tokens_details or _NO_DETAILS).cached_tokens or 0
        return Usage(self.prompt_tokens, self.completion_tokens, cached_input_tokens=cached)


_NO_DETAILS = _PromptDetails()


class _Chunk(pydantic.BaseModel):
    """What the provider reads of a ``chat.completion.chunk``, or the error a server streams
    instead of one."""

    choices: list[_Choice] | None = None
    usage: _Usage | None = None
    error: Any = None


async def _chunks(response: httpx.Response) -> AsyncGenerator[_Chunk, None]:
    """The chunks of a chat completion stream, up to ``[DONE]`` or the end of the response."""
    async with contextlib.aclosing(_event_data(response)) as events:
        async for data in events:
            if data == b"[DONE]":
                await _drain(events)
                return
            try:
                chunk = _Chunk.model_validate_json(data)
            except pydantic.ValidationError as exc:
                shown = data[:200].decode(errors="replace")
                raise ModelError(
                    f"The model server sent a malformed stream event: {shown!r}", transient=True
                ) from exc
            if chunk.error:
                raise ModelError(
                    f"The model server answered badly: {_error_message(chunk.error)}",
                    transient=True,
                )
            yield chunk


async def _event_data(response: httpx.Response) -> AsyncGenerator[bytes, None]:
    """The data of each server-sent event (its ``data:`` lines joined), as bytes."""
    pending = b""
    data: list[bytes] = []
    async for part in response.aiter_bytes():
        *lines, pending = (pending + part).split(b"\n")
        for line in lines:
            line = line.rstrip(b"\r")
            if line.startswith(b"data:"):
                data.append(_field_value(line))
            elif not line and data:
                yield b"\n".join(data)
                data = []
    if pending.startswith(b"data:"):  # the last line, with no line end
        data.append(_field_value(pending.rstrip(b"\r")))
    if data:
        yield b"\n".join(data)


def _field_value(line: bytes) -> bytes:
    value = line.partition(b":")[2]
    return value[1:] if value.startswith(b" ") else value


async def _drain(events: AsyncIterator[bytes]) -> None:
    # Reading the response to its end lets the connection carry the next call; a server that
    # keeps it open after [DONE] only costs that connection.
    with contextlib.suppress(TimeoutError, *_READ_ERRORS):
        async with asyncio.timeout(_DRAIN_S):
            async for _ in events:
                pass


def _error_message(error: Any) -> str:
    message = error.get("message") if isinstance(error, dict) else None
    return message if isinstance(message, str) and message else "an error in the stream"


def wire_names(request: ModelRequest) -> dict[str, str]:
    """Our tool name -> the name the server sees: safe characters, at most 64, unique."""
    names: dict[str, str] = {}
    called = (c.name for m in request.messages for c in m.tool_calls)
    for name in [*(t.name for t in request.tools), *called]:
        if name in names:
            continue
        wire = base = _NOT_WIRE_SAFE.sub("_", name)[:64] or "tool"
        suffix = 1
        while wire in names.values():
            suffix += 1
            wire = f"{base[: 63 - len(str(suffix))]}_{suffix}"
        names[name] = wire
    return names


def _body(model: str, request: ModelRequest, names: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model or model,
        "messages": [_message(m, names) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": names[t.name],
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
    if request.output_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": request.output_schema, "strict": False},
        }
    if request.temperature is not None:
        body["temperature"] = request.temperature
    return body


def _options(request: ModelRequest) -> openai.RequestOptions:
    # What create() would pass for chat completions: the API key as a bearer token.
    headers = dict(_NOT_SENT)
    options: openai.RequestOptions = {"security": {"bearer_auth": True}, "headers": headers}
    if request.timeout_s is not None:
        options["timeout"] = request.timeout_s
    if request.activity_key:
        headers["X-Activity-Key"] = request.activity_key
        headers["X-Attempt"] = str(request.attempt)
    return options


def _message(message: ChatMessage, names: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        data["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": names[c.name], "arguments": c.arguments},
            }
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        data["tool_call_id"] = message.tool_call_id
    return data


def _merge(slot: dict[str, str], fragment: _ToolCallFragment) -> None:
    if fragment.id:
        slot["id"] = fragment.id
    if fragment.function is not None:
        slot["name"] += fragment.function.name or ""
        slot["arguments"] += fragment.function.arguments or ""


def _describe(exc: openai.APIStatusError) -> str:
    # The server's own words, short: ``_clean`` bounds and redacts them on the way out.
    return f"The model server answered HTTP {exc.status_code}: {exc.message[:MAX_SHOWN_CHARS]}"
