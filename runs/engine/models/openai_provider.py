"""The ``openai`` provider: the official ``openai`` client against any OpenAI-compatible server
(OpenAI, Azure OpenAI, vLLM, Ollama, LM Studio, llama.cpp).

It always streams, so tokens reach the run page as they are written, assembles tool calls from
their streamed fragments (several per turn), asks for JSON-schema output when the agent has an
output schema, reads usage from the final chunk, and maps the client's errors onto retryable
(429, 408, 409, 5xx, connection errors, timeouts) and final ones.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import openai

from ..interfaces import (
    ChatMessage,
    DeltaCallback,
    ModelError,
    ModelRequest,
    ModelResponse,
    ToolCall,
    Usage,
)

TRANSIENT_STATUSES = frozenset({408, 409, 429})
# OpenAI-compatible servers accept function names of 1-64 letters, digits, '_' and '-'; our
# tool names may hold other characters (MCP tools are "<server>.<tool>").
_NOT_WIRE_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class OpenAIProvider:
    def __init__(
        self, *, model: str, base_url: str | None, api_key: str | None, timeout_s: float = 120.0
    ) -> None:
        self.model = model
        # Retries are the engine's (recorded, with seeded jitter), never the client's own.
        self.client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "not-needed", max_retries=0, timeout=timeout_s
        )

    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None = None
    ) -> ModelResponse:
        try:
            return await self._stream(request, on_delta)
        except openai.APIStatusError as exc:
            transient = exc.status_code in TRANSIENT_STATUSES or exc.status_code >= 500
            raise ModelError(_describe(exc), transient=transient, status=exc.status_code) from exc
        except (openai.APIConnectionError, httpx.TransportError, TimeoutError) as exc:
            raise ModelError(f"Could not reach the model server: {exc}", transient=True) from exc
        except openai.OpenAIError as exc:
            raise ModelError(f"The model server answered badly: {exc}", transient=True) from exc

    async def _stream(self, request: ModelRequest, on_delta: DeltaCallback | None) -> ModelResponse:
        names = wire_names(request)
        stream = await self.client.chat.completions.create(**_arguments(self.model, request, names))
        text: list[str] = []
        calls: dict[int, dict[str, str]] = {}
        usage = Usage()
        finish = "stop"
        async for chunk in stream:
            if chunk.usage is not None:
                usage = Usage(chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
            for choice in chunk.choices:
                delta = choice.delta
                if delta.content:
                    text.append(delta.content)
                    if on_delta is not None:
                        await on_delta(delta.content)
                for fragment in delta.tool_calls or ():
                    _merge(
                        calls.setdefault(fragment.index, {"id": "", "name": "", "arguments": ""}),
                        fragment,
                    )
                finish = choice.finish_reason or finish
        ours = {wire: name for name, wire in names.items()}
        tool_calls = tuple(
            ToolCall(c["id"] or f"call_{i}", ours.get(c["name"], c["name"]), c["arguments"])
            for i, c in sorted(calls.items())
        )
        return ModelResponse("".join(text) or None, tool_calls, usage, finish)


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


def _arguments(model: str, request: ModelRequest, names: dict[str, str]) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "model": request.model or model,
        "messages": [_message(m, names) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        arguments["tools"] = [
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
        arguments["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": request.output_schema, "strict": False},
        }
    if request.temperature is not None:
        arguments["temperature"] = request.temperature
    if request.timeout_s is not None:
        arguments["timeout"] = request.timeout_s
    if request.activity_key:
        arguments["extra_headers"] = {
            "X-Activity-Key": request.activity_key,
            "X-Attempt": str(request.attempt),
        }
    return arguments


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


def _merge(slot: dict[str, str], fragment: Any) -> None:
    if fragment.id:
        slot["id"] = fragment.id
    if fragment.function is not None:
        slot["name"] += fragment.function.name or ""
        slot["arguments"] += fragment.function.arguments or ""


def _describe(exc: openai.APIStatusError) -> str:
    return f"The model server answered HTTP {exc.status_code}: {exc.message}"
