"""A local server speaking Anthropic's Messages API (``POST /v1/messages``), for tests.

It plays the same scripted ``Reply``s as ``openai_server`` (rules that look only at the
request), streamed as the real API streams them: ``message_start`` with the input usage and
cache figures, a ``content_block_*`` triple per text or ``tool_use`` block (tool input as
``input_json_delta`` fragments), ``message_delta`` with the stop reason and output tokens,
``message_stop``. Every answer carries the reply's headers (rate-limit headers on a success); an error
status answers with the API's error body and the reply's headers
(``Retry-After``); a reply's ``sse`` pieces are written as they are.

    server.on(lambda r: True, Reply.calls(("lookup", {"q": "one"}), ("lookup", {"q": "two"})))
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .openai_server import ChatRequest, Reply, ScriptedOpenAIServer

_ERROR_TYPES = {
    400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
    404: "not_found_error", 429: "rate_limit_error", 529: "overloaded_error",
}  # fmt: skip


class ScriptedAnthropicServer(ScriptedOpenAIServer):
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/messages", self._messages)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base_url

    async def _messages(self, http: web.Request) -> web.StreamResponse:
        body = await http.json()
        request = ChatRequest(
            body,
            http.headers.get("X-Activity-Key"),
            int(http.headers.get("X-Attempt", "1")),
            http.headers.get("x-api-key") or _bearer(http.headers.get("Authorization", "")),
            {name.lower(): value for name, value in http.headers.items()},
        )
        self.log.append(request)
        reply = self._choose(request)
        await asyncio.sleep(reply.delay_s)
        request.status = reply.status
        if reply.status != 200:
            kind = _ERROR_TYPES.get(reply.status, "api_error")
            error = {"type": "error", "error": {"type": kind, "message": f"scripted {kind}"}}
            return web.json_response(error, status=reply.status, headers=dict(reply.headers))
        headers = {"Content-Type": "text/event-stream", **dict(reply.headers)}
        response = web.StreamResponse(headers=headers)
        await response.prepare(http)
        pieces = list(reply.sse) if reply.sse is not None else _events(body, reply)
        for piece in pieces:
            await response.write(piece.encode())
        await asyncio.sleep(reply.linger_s)
        await response.write_eof()
        request.completed = True
        return response


def _bearer(value: str) -> str | None:
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def _sse(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"


def _events(body: dict[str, Any], reply: Reply) -> list[str]:
    prompt, completion = reply.usage
    read, written = reply.cached
    usage = {
        "input_tokens": prompt - read - written,
        "output_tokens": 1,
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": written,
    }
    message = {"id": "msg_test", "type": "message", "role": "assistant", "content": [],
               "model": body.get("model", "test"), "stop_reason": None,
               "stop_sequence": None, "usage": usage}  # fmt: skip
    events = [_sse("message_start", {"message": message})]
    index = 0
    if reply.content:
        events.append(_sse("content_block_start", {"index": index,
                                                   "content_block": {"type": "text", "text": ""}}))  # fmt: skip
        for start in range(0, len(reply.content), reply.chunk_chars):
            text = reply.content[start : start + reply.chunk_chars]
            delta = {"type": "text_delta", "text": text}
            events.append(_sse("content_block_delta", {"index": index, "delta": delta}))
        events.append(_sse("content_block_stop", {"index": index}))
        index += 1
    for number, (name, arguments) in enumerate(reply.tool_calls):
        block = {"type": "tool_use", "id": f"toolu_{number}", "name": name, "input": {}}
        events.append(_sse("content_block_start", {"index": index, "content_block": block}))
        half = len(arguments) // 2
        for part in (arguments[:half], arguments[half:]):
            delta = {"type": "input_json_delta", "partial_json": part}
            events.append(_sse("content_block_delta", {"index": index, "delta": delta}))
        events.append(_sse("content_block_stop", {"index": index}))
        index += 1
    stop = "tool_use" if reply.tool_calls else "end_turn"
    events.append(_sse("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None},
                                         "usage": {"output_tokens": completion}}))  # fmt: skip
    events.append(_sse("message_stop", {}))
    return events
