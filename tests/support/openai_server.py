"""A local OpenAI-compatible server that plays scripted responses, for tests.

It speaks ``POST /v1/chat/completions`` like the real API: streamed over SSE (with a usage chunk
when asked) or as one JSON body. Replies are chosen by rules that look only at the request
(its messages, and the ``X-Activity-Key`` / ``X-Attempt`` headers the engine's provider sends),
so a resumed run gets the same answer for the same call. Faults are replies too: an HTTP status
(429, 500, ...), a delay longer than the client's timeout, malformed tool-call arguments,
schema-invalid JSON, a stream written piece by piece as given (an error event mid-stream, a
line that is not JSON, no ``[DONE]``), a response held open after ``[DONE]``. Every request is
logged with the API key it carried and whether its response was completed.

It also answers ``GET /tools/<anything>`` as an HTTP tool would (a custom tool's URL), logging
each call and whether its answer was sent, so a test counts tool calls as it counts model calls.

    server.on(lambda r: "You are Writer" in r.system, Reply.text("A draft"))
    server.on(lambda r: r.attempt == 1, Reply.error(429))   # first attempt of every call
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    content: str | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, raw JSON arguments, may be malformed)
    status: int = 200
    delay_s: float = 0.0
    usage: tuple[int, int] = (20, 10)
    chunk_chars: int = 6
    sse: tuple[str, ...] | None = None  # the stream's body, written piece by piece as it is
    linger_s: float = 0.0  # how long the response stays open after the stream's last event
    gap_s: float = 0.0  # a pause between the pieces of a stream, as a model writing slowly
    headers: tuple[tuple[str, str], ...] = ()  # sent with the response, e.g. Retry-After
    cached: tuple[int, int] = (0, 0)  # prompt tokens read from and written to the cache

    @classmethod
    def text(cls, content: str, **kw: Any) -> Reply:
        return cls(content=content, **kw)

    @classmethod
    def json(cls, value: Any, **kw: Any) -> Reply:
        return cls(content=json.dumps(value), **kw)

    @classmethod
    def calls(cls, *calls: tuple[str, Any], **kw: Any) -> Reply:
        raw = tuple((n, a if isinstance(a, str) else json.dumps(a)) for n, a in calls)
        return cls(tool_calls=raw, **kw)

    @classmethod
    def error(cls, status: int, **kw: Any) -> Reply:
        return cls(status=status, **kw)

    @classmethod
    def stream(cls, *pieces: str, **kw: Any) -> Reply:
        """A 200 stream of exactly these pieces of body, each written on its own."""
        return cls(sse=pieces, **kw)


@dataclass
class ChatRequest:
    body: dict[str, Any]
    activity_key: str | None
    attempt: int
    api_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    status: int = 0
    completed: bool = False

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    @property
    def system(self) -> str:
        return "\n".join(m.get("content") or "" for m in self.messages if m["role"] == "system")

    @property
    def user(self) -> str:
        return next((m.get("content") or "" for m in self.messages if m["role"] == "user"), "")

    @property
    def turn(self) -> int:
        """1 + the assistant messages so far: which model turn of the agent this is."""
        return 1 + sum(1 for m in self.messages if m["role"] == "assistant")

    @property
    def tool_results(self) -> list[str]:
        return [m.get("content") or "" for m in self.messages if m["role"] == "tool"]

    @property
    def tool_names(self) -> list[str]:
        return [t["function"]["name"] for t in self.body.get("tools", [])]


@dataclass
class ToolCallMade:
    path: str
    completed: bool = False


Match = Callable[[ChatRequest], bool]
Script = Reply | Callable[[ChatRequest], Reply]


@dataclass
class _Rule:
    match: Match
    reply: Script
    times: int | None


@dataclass
class ScriptedOpenAIServer:
    rules: list[_Rule] = field(default_factory=list)
    log: list[ChatRequest] = field(default_factory=list)
    base_url: str = ""
    # Like a provider's rate limit: a bucket of ``limit_burst`` requests (default: one second's
    # worth) refilled at ``limit_rpm`` a minute; a request finding it empty gets a 429 with
    # Retry-After (whole seconds until the next request is allowed, at least 1).
    limit_rpm: int | None = None
    limit_burst: int | None = None
    rejected: int = 0
    accepted_at: list[float] = field(default_factory=list)  # time.monotonic() of each
    tool_log: list[ToolCallMade] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _bucket: tuple[float, float] | None = None  # (requests left, when it was counted)

    def on(self, match: Match, reply: Script, times: int | None = None) -> None:
        """Answer requests that ``match`` with ``reply`` (first matching rule wins)."""
        self.rules.append(_Rule(match, reply, times))

    def completed(self) -> list[ChatRequest]:
        return [r for r in self.log if r.completed]

    @property
    def tool_url(self) -> str:
        """Where an HTTP tool of a test points: ``{tool_url}/orders/{order_id}``."""
        return self.base_url.removesuffix("/v1") + "/tools"

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/tools/{path:.*}", self._tool)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def _choose(self, request: ChatRequest) -> Reply:
        for rule in self.rules:
            if rule.times == 0 or not rule.match(request):
                continue
            if rule.times is not None:
                rule.times -= 1
            return rule.reply(request) if callable(rule.reply) else rule.reply
        return Reply.text("(no scripted reply matched)")

    async def _chat(self, http: web.Request) -> web.StreamResponse:
        body = await http.json()
        bearer = http.headers.get("Authorization", "")
        request = ChatRequest(
            body,
            http.headers.get("X-Activity-Key"),
            int(http.headers.get("X-Attempt", "1")),
            bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else None,
            {name.lower(): value for name, value in http.headers.items()},
        )
        self.log.append(request)
        limited = self._over_limit()
        reply = limited or self._choose(request)
        await asyncio.sleep(reply.delay_s)
        request.status = reply.status
        if reply.status != 200:
            message = {"error": {"message": f"scripted HTTP {reply.status}", "type": "test"}}
            response = web.json_response(message, status=reply.status, headers=dict(reply.headers))
        elif body.get("stream"):
            response = await self._stream(http, body, reply)
        else:
            response = web.json_response(_completion(body, reply))
        request.completed = reply.status == 200
        return response

    async def _tool(self, http: web.Request) -> web.Response:
        call = ToolCallMade(http.match_info["path"])
        self.tool_log.append(call)
        response = web.json_response({"path": call.path, "status": "shipped"})
        call.completed = True
        return response

    def _over_limit(self) -> Reply | None:
        if self.limit_rpm is None:
            return None
        per_s = self.limit_rpm / 60
        burst = self.limit_burst or max(1, math.ceil(per_s))
        now = time.monotonic()
        left, then = self._bucket or (float(burst), now)
        left = min(float(burst), left + (now - then) * per_s)
        if left >= 1:
            self._bucket = (left - 1, now)
            self.accepted_at.append(now)
            return None
        self._bucket = (left, now)
        self.rejected += 1
        wait = max(1, math.ceil((1 - left) / per_s))
        return Reply.error(429, headers=(("Retry-After", str(wait)),))

    async def _stream(self, http: web.Request, body: dict, reply: Reply) -> web.StreamResponse:
        headers = {"Content-Type": "text/event-stream", **dict(reply.headers)}
        response = web.StreamResponse(headers=headers)
        await response.prepare(http)
        if reply.sse is not None:
            pieces = list(reply.sse)
        else:
            pieces = [f"data: {json.dumps(chunk)}\n\n" for chunk in _chunks(body, reply)]
            pieces.append("data: [DONE]\n\n")
        for piece in pieces:
            await response.write(piece.encode())
            if reply.gap_s:
                await asyncio.sleep(reply.gap_s)
        await asyncio.sleep(reply.linger_s)
        await response.write_eof()
        return response


def _base(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": "chatcmpl-test", "created": 0, "model": body.get("model", "test")}


def _usage(reply: Reply) -> dict[str, int]:
    prompt, completion = reply.usage
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": reply.cached[0]},
    }


def _chunks(body: dict[str, Any], reply: Reply) -> list[dict[str, Any]]:
    base = {**_base(body), "object": "chat.completion.chunk"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    text = reply.content or ""
    for start in range(0, len(text), reply.chunk_chars):
        chunks.append(chunk({"content": text[start : start + reply.chunk_chars]}))
    for index, (name, arguments) in enumerate(reply.tool_calls):
        opening = {"index": index, "id": f"call_{index}", "type": "function",
                   "function": {"name": name, "arguments": ""}}  # fmt: skip
        chunks.append(chunk({"tool_calls": [opening]}))
        half = len(arguments) // 2  # arguments arrive in fragments, as from the real API
        for part in (arguments[:half], arguments[half:]):
            chunks.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": part}}]})
            )
    chunks.append(chunk({}, "tool_calls" if reply.tool_calls else "stop"))
    if body.get("stream_options", {}).get("include_usage"):
        chunks.append({**base, "choices": [], "usage": _usage(reply)})
    return chunks


def _completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    calls = [
        {"id": f"call_{i}", "type": "function", "function": {"name": n, "arguments": a}}
        for i, (n, a) in enumerate(reply.tool_calls)
    ]
    message = {"role": "assistant", "content": reply.content, "tool_calls": calls or None}
    finish = "tool_calls" if calls else "stop"
    return {**_base(body), "object": "chat.completion", "usage": _usage(reply),
            "choices": [{"index": 0, "message": message, "finish_reason": finish}]}  # fmt: skip
