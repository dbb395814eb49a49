"""The ``gemini`` provider: the official ``google-genai`` SDK against the Gemini API.

It always streams (``streamGenerateContent`` over server-sent events), collects the function
calls of a turn (Gemini sends each whole, several per turn when it calls in parallel), asks
for JSON-schema output with ``response_json_schema`` when the agent has an output schema, and
reads usage with the tokens served from the context cache. Errors map onto retryable (429,
408, 409, 5xx, connection errors, timeouts, a stream cut short), with the server's
``Retry-After``, and final ones (400, 401, 403, 404, ...). Google does not document
rate-limit headers on a successful answer; when one comes with the ``x-ratelimit-*`` headers
OpenAI-style gateways in front of Gemini send, saying nothing is left, the credential's rate
limiter pauses until their reset (``ModelResponse.exhausted_for_s``).

The SDK sends through ``guard.guarded_client`` (the network guard, the answer capped at
``max_answer_bytes`` and ``max_answer_s``, no redirects), with its own retries off and never
Vertex AI: the worker's Google credentials (``GOOGLE_APPLICATION_CREDENTIALS``, the metadata
server) are never used, so they cannot reach a base URL a user chose.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

from google import genai
from google.genai import errors, types

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
    cause,
    check_destination,
    exhausted_for_s,
    guarded_client,
    is_transient,
    retry_after_s,
    unreachable,
)
from .openai_provider import wire_names

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
_UNREACHABLE: tuple[type[Exception], ...] = (TimeoutError, *_READ_ERRORS)
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length"}


class GeminiProvider(KeyRedacting):
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
        self.model = model
        self._base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._api_key, self._timeout_s = api_key, timeout_s
        self._network = network or NetworkPolicy()
        self._key_hosts = key_hosts
        self._max_bytes, self._max_s = max_answer_bytes, max_answer_s
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, genai.Client]
        self._clients = weakref.WeakKeyDictionary()

    def __repr__(self) -> str:
        return f"GeminiProvider(model={self.model!r}, base_url={self._base_url!r})"

    def _client(self) -> genai.Client:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            http = guarded_client(self._network, self._max_bytes, self._timeout_s)
            options = types.HttpOptions(
                base_url=self._base_url,
                api_version=API_VERSION,
                timeout=int(self._timeout_s * 1000),
                retry_options=types.HttpRetryOptions(attempts=1),
                httpx_async_client=http,
            )
            client = self._clients[loop] = genai.Client(
                vertexai=False, api_key=self._api_key or "not-needed", http_options=options
            )
            _open.setdefault(loop, []).append(http)
        return client

    async def _complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None
    ) -> ModelResponse:
        check_destination(self._base_url, self._key_hosts, self._network)
        try:
            async with asyncio.timeout(self._max_s) as deadline:
                return await self._stream(request, on_delta)
        except errors.APIError as exc:
            raise _status_error(exc) from exc
        except _UNREACHABLE as exc:
            timed_out = deadline.expired()
            raise unreachable(exc, timed_out=timed_out, max_s=self._max_s) from exc
        except (ValueError, TypeError) as exc:  # an answer the SDK could not read
            capped = cause(exc, ModelError)
            if capped is not None:
                raise capped from None
            raise ModelError(f"The model server answered badly: {exc}", transient=True) from exc

    async def _stream(self, request: ModelRequest, on_delta: DeltaCallback | None) -> ModelResponse:
        names = wire_names(request)
        stream = await self._client().aio.models.generate_content_stream(
            model=request.model or self.model,
            contents=_contents(request.messages, names),  # type: ignore[arg-type]
            config=_config(request, names),
        )
        text: list[str] = []
        calls: list[ToolCall] = []
        usage = Usage()
        finish: str | None = None
        headers: Any = None
        ours = {wire: name for name, wire in names.items()}
        async for chunk in stream:
            if headers is None and chunk.sdk_http_response is not None:
                headers = chunk.sdk_http_response.headers
            if chunk.usage_metadata is not None:
                usage = _usage(chunk.usage_metadata)
            for candidate in (chunk.candidates or [])[:1]:
                for part in candidate.content.parts or () if candidate.content else ():
                    if part.text and not part.thought:
                        text.append(part.text)
                        if on_delta is not None:
                            await on_delta(part.text)
                    if part.function_call is not None:
                        call = part.function_call
                        calls.append(
                            ToolCall(
                                call.id or f"call_{len(calls)}",
                                ours.get(call.name or "", call.name or ""),
                                json.dumps(call.args or {}),
                            )
                        )
                if candidate.finish_reason is not None:
                    finish = str(candidate.finish_reason.value)
        if finish is None:
            raise ModelError(
                "The model server's stream ended before the answer was finished.", transient=True
            )
        reason = "tool_calls" if calls else _FINISH.get(finish, finish.lower())
        exhausted = exhausted_for_s(headers)
        return ModelResponse("".join(text) or None, tuple(calls), usage, reason, False, exhausted)


# The HTTP clients made on each loop, closed with it (the SDK's client does not own them).
_open: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Any]] = weakref.WeakKeyDictionary()


async def close_all() -> None:
    """Close the connections every provider holds on the running loop (before it ends)."""
    for http in _open.pop(asyncio.get_running_loop(), []):
        await http.aclose()


def _status_error(exc: errors.APIError) -> ModelError:
    status = int(exc.code or 0)
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    said = exc.message or exc.status or "no reason given"
    return ModelError(
        f"The model server answered HTTP {status}: {str(said)[:MAX_SHOWN_CHARS]}",
        transient=is_transient(status),
        status=status,
        retry_after_s=retry_after_s(headers),
    )


def _usage(meta: types.GenerateContentResponseUsageMetadata) -> Usage:
    prompt = (meta.prompt_token_count or 0) + (meta.tool_use_prompt_token_count or 0)
    # Thinking tokens are billed as output.
    output = (meta.candidates_token_count or 0) + (meta.thoughts_token_count or 0)
    return Usage(prompt, output, cached_input_tokens=meta.cached_content_token_count or 0)


def _config(request: ModelRequest, names: dict[str, str]) -> types.GenerateContentConfig:
    system = "\n\n".join(m.content or "" for m in request.messages if m.role == "system")
    config: dict[str, Any] = {
        # Function calls come back to the engine, which runs the tools itself.
        "automatic_function_calling": {"disable": True},
    }
    if system:
        config["system_instruction"] = system
    if request.tools:
        declarations = [
            {
                "name": names[t.name],
                "description": t.description,
                "parameters_json_schema": t.parameters,
            }
            for t in request.tools
        ]
        config["tools"] = [{"function_declarations": declarations}]
    if request.output_schema is not None:
        config["response_mime_type"] = "application/json"
        config["response_json_schema"] = request.output_schema
    if request.temperature is not None:
        config["temperature"] = request.temperature
    http: dict[str, Any] = {}
    if request.activity_key:
        http["headers"] = {
            "X-Activity-Key": request.activity_key,
            "X-Attempt": str(request.attempt),
        }
    if request.timeout_s is not None:
        http["timeout"] = max(int(request.timeout_s * 1000), 1)  # milliseconds
    if http:
        config["http_options"] = http
    return types.GenerateContentConfig.model_validate(config)


def _contents(messages: Any, names: dict[str, str]) -> list[dict[str, Any]]:
    """Our chat as Gemini contents: the model's turns as ``model``, tool results as
    ``function_response`` parts of a user turn, consecutive turns of one role merged (the
    results of parallel calls go back together)."""
    called = {c.id: names[c.name] for m in messages for c in m.tool_calls}
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            continue
        role = "model" if message.role == "assistant" else "user"
        parts = _parts(message, names, called)
        if not parts:
            continue
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})
    return contents


def _parts(
    message: ChatMessage, names: dict[str, str], called: dict[str, str]
) -> list[dict[str, Any]]:
    if message.role == "tool":
        call_id = message.tool_call_id or ""
        response = {
            "id": call_id,
            "name": called.get(call_id, message.name or "tool"),
            "response": {"result": message.content or ""},
        }
        return [{"function_response": response}]
    parts: list[dict[str, Any]] = []
    if message.content:
        parts.append({"text": message.content})
    for call in message.tool_calls:
        parts.append(
            {"function_call": {"id": call.id, "name": names[call.name], "args": _args(call)}}
        )
    return parts


def _args(call: ToolCall) -> dict[str, Any]:
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
