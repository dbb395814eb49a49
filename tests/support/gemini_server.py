"""A local server speaking the Gemini API's ``streamGenerateContent`` (``?alt=sse``), for tests.

It plays the same scripted ``Reply``s as ``openai_server``: text in several chunks, each
function call whole in a part (two calls in one turn come as two parts of one chunk), usage
(``usageMetadata`` with ``cachedContentTokenCount``) and the finish reason in the last chunk.
Every answer carries the reply's headers (rate-limit headers on a success); an error
status answers with the API's error body and the reply's headers (``Retry-After``).

    server.on(lambda r: True, Reply.calls(("lookup", {"q": "one"}), ("lookup", {"q": "two"})))
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from .openai_server import ChatRequest, Reply, ScriptedOpenAIServer

_STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
             404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL",
             503: "UNAVAILABLE"}  # fmt: skip


class ScriptedGeminiServer(ScriptedOpenAIServer):
    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/v1beta/models/{call}", self._generate)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self.base_url

    async def _generate(self, http: web.Request) -> web.StreamResponse:
        model, _, method = http.match_info["call"].partition(":")
        body = {**await http.json(), "model": model, "method": method}
        request = ChatRequest(
            body,
            http.headers.get("X-Activity-Key"),
            int(http.headers.get("X-Attempt", "1")),
            http.headers.get("x-goog-api-key"),
            {name.lower(): value for name, value in http.headers.items()},
        )
        self.log.append(request)
        reply = self._choose(request)
        await asyncio.sleep(reply.delay_s)
        request.status = reply.status
        if reply.status != 200:
            status = _STATUSES.get(reply.status, "UNKNOWN")
            error = {"error": {"code": reply.status, "message": f"scripted {status}",
                               "status": status}}  # fmt: skip
            return web.json_response(error, status=reply.status, headers=dict(reply.headers))
        headers = {"Content-Type": "text/event-stream", **dict(reply.headers)}
        response = web.StreamResponse(headers=headers)
        await response.prepare(http)
        pieces = list(reply.sse) if reply.sse is not None else _chunks(model, reply)
        for piece in pieces:
            await response.write(piece.encode())
        await asyncio.sleep(reply.linger_s)
        await response.write_eof()
        request.completed = True
        return response


def _chunk(model: str, parts: list[dict[str, Any]], **extra: Any) -> str:
    candidate = {"content": {"role": "model", "parts": parts}, "index": 0}
    if "finishReason" in extra:
        candidate["finishReason"] = extra.pop("finishReason")
    data = {"candidates": [candidate], "modelVersion": model, **extra}
    return f"data: {json.dumps(data)}\r\n\r\n"


def _chunks(model: str, reply: Reply) -> list[str]:
    text = reply.content or ""
    pieces = [text[i : i + reply.chunk_chars] for i in range(0, len(text), reply.chunk_chars)]
    chunks = [_chunk(model, [{"text": piece}]) for piece in pieces]
    calls = [
        {"functionCall": {"id": f"fc_{i}", "name": name, "args": json.loads(arguments)}}
        for i, (name, arguments) in enumerate(reply.tool_calls)
    ]
    prompt, completion = reply.usage
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": completion,
             "totalTokenCount": prompt + completion,
             "cachedContentTokenCount": reply.cached[0]}  # fmt: skip
    chunks.append(_chunk(model, calls or [{"text": ""}], finishReason="STOP", usageMetadata=usage))
    return chunks
