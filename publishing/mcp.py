"""The MCP server at ``/mcp/``: published teams as tools, over streamable HTTP (the ``mcp``
SDK's low-level ``Server`` behind its ``StreamableHTTPSessionManager``, stateless, answering
JSON). A caller authenticates with a publication key (``Authorization: Bearer``), which
reaches one published team: ``tools/list`` offers it, with the team's input schema as the
tool's, and ``tools/call`` runs it and answers with the run's output. Every request counts
against the key's rate, as calls to ``/p/<slug>/runs`` do.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

import mcp_types as types
from channels.db import database_sync_to_async
from django.conf import settings
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from orchestration_site.quotas import QuotaExceeded
from runs.actions import input_problems
from runs.models import Run
from teams.services import unstorable

from . import actions, views, waits
from .models import PublicationKey

#: Where the authenticated key's id travels from the HTTP layer to the handlers.
SCOPE_KEY = "publication_key_id"
#: The tool's arguments when a team's input is not an object (MCP tools take objects).
WRAPPED = "input"


def tool_schema(spec: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The tool's input schema for a team's spec, and whether the team's own input schema had
    to be wrapped as the ``input`` property of an object."""
    schema = spec.get("input_schema") or {"type": "object"}
    if schema.get("type") == "object":
        return schema, False
    return {"type": "object", "properties": {WRAPPED: schema}, "required": [WRAPPED]}, True


def _key(ctx: Any) -> PublicationKey:
    key_id = ctx.request.scope.get(SCOPE_KEY) if ctx.request is not None else None
    key = (
        PublicationKey.objects.active()
        .select_related("publication__team", "publication__published_by")
        .filter(pk=key_id)
        .first()
    )
    if key is None:  # revoked while the request was on its way
        raise MCPError(types.INVALID_REQUEST, "This key is no longer valid.")
    return key


def _tool(key: PublicationKey) -> types.Tool:
    publication = key.publication
    version = publication.team.versions.get(number=publication.version)
    schema, _ = tool_schema(version.spec)
    return types.Tool(
        name=publication.slug,
        title=publication.team.name,
        description=publication.team.description or f"Run the team {publication.team.name}.",
        input_schema=schema,
    )


@database_sync_to_async
def _listing(ctx: Any) -> list[types.Tool]:
    return [_tool(_key(ctx))]


@database_sync_to_async
def _start(
    ctx: Any, name: str, arguments: dict[str, Any]
) -> tuple[PublicationKey, tuple[Run, waits.Slot] | str]:
    """The run the call starts, with the slot its wait holds, or why nothing started."""
    key = _key(ctx)
    if name != key.publication.slug:
        raise MCPError(types.INVALID_PARAMS, f"Unknown tool {name!r}; this key reaches one tool.")
    spec = key.publication.team.versions.get(number=key.publication.version).spec
    _, wrapped = tool_schema(spec)
    if wrapped and WRAPPED not in arguments:
        return key, f"The arguments need an {WRAPPED!r} member: the team's input."
    task_input = arguments[WRAPPED] if wrapped else arguments
    if problem := unstorable(task_input):
        return key, f"The arguments cannot be stored: {problem.message}"
    if problems := input_problems(spec, task_input):
        return key, " ".join(p["message"] for p in problems)
    try:  # the wait's slot before the run: a wait over the bound starts nothing
        return key, waits.start_holding(key, lambda: actions.do_start(key, task_input))
    except actions.RunRefused as exc:
        return key, exc.detail
    except QuotaExceeded as exc:  # the waits' bound, or the publisher's quotas
        return key, f"{exc.detail} (Retry-After: {exc.retry_after} s)"


@database_sync_to_async
def _answer(key: PublicationKey, run: Run) -> dict[str, Any]:
    return actions.run_answer(key.publication, run)


def _refusal(message: str) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=message)], is_error=True
    )


async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
    return types.ListToolsResult(tools=await _listing(ctx))


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    key, started = await _start(ctx, params.name, dict(params.arguments or {}))
    if isinstance(started, str):
        return _refusal(started)
    run, slot = started
    try:
        run = await waits.settled(run)
    finally:
        slot.release()
    answer = await _answer(key, run)
    if run.status == Run.Status.SUCCEEDED:
        output = run.output
        text = output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=text)],
            structured_content=answer,
        )
    if run.is_finished:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=f"The run {run.status}: "
                                       f"{run.failure_reason or 'no reason given'}.")],
            structured_content=answer,
            is_error=True,
        )  # fmt: skip
    text = f"The run is {run.get_status_display().lower()}; read it later at {answer['url']}."
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)], structured_content=answer
    )


def build_server() -> Server[Any]:
    return Server(
        "agent-team-orchestrator",
        instructions="Published teams of LLM agents; each tool runs one team.",
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


@database_sync_to_async
def _authenticated(authorization: str) -> int:
    """The id of the caller's key, counted against its rate (``views.Refused``: 401;
    ``QuotaExceeded``: 429)."""
    key = views.bearer_key(authorization)
    actions.admit(key)
    return key.id


class McpEndpoint:
    """The ASGI application at ``/mcp/``. The SDK's session manager lives in a task group
    that must stay open; daphne has no ASGI lifespan, so each event loop starts its own
    manager at its first request and keeps it for as long as the loop runs."""

    def __init__(self) -> None:
        self._managers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, asyncio.Future[StreamableHTTPSessionManager]
        ] = weakref.WeakKeyDictionary()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            key_id = await _authenticated(headers.get("authorization", ""))
        except views.Refused as exc:
            body = {"detail": exc.detail, "problems": exc.problems}
            await JSONResponse(body, status_code=exc.status, headers={
                "WWW-Authenticate": 'Bearer realm="publication"'})(scope, receive, send)  # fmt: skip
            return
        except QuotaExceeded as exc:
            await JSONResponse(
                {"detail": exc.detail, "problems": []},
                status_code=429,
                headers={"Retry-After": str(exc.retry_after)},
            )(scope, receive, send)
            return
        manager = await self._manager()
        await manager.handle_request({**scope, SCOPE_KEY: key_id}, receive, send)

    async def _manager(self) -> StreamableHTTPSessionManager:
        loop = asyncio.get_running_loop()
        if loop not in self._managers:
            ready: asyncio.Future[StreamableHTTPSessionManager] = loop.create_future()
            self._managers[loop] = ready
            task = loop.create_task(self._serve(ready))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(self._managers[loop])

    @staticmethod
    async def _serve(ready: asyncio.Future[StreamableHTTPSessionManager]) -> None:
        manager = StreamableHTTPSessionManager(
            build_server(),
            stateless=True,
            json_response=True,
            max_request_body_size=settings.PUBLICATION_MAX_BODY_BYTES,
        )
        try:
            async with manager.run():
                ready.set_result(manager)
                await asyncio.Event().wait()  # until the loop stops
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise


endpoint = McpEndpoint()


def is_mcp(scope: Scope) -> bool:
    return scope["type"] == "http" and scope["path"] in ("/mcp", "/mcp/")
