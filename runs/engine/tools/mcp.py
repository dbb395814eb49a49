"""Tools from MCP servers: connect to a team's servers, list their tools, call them like
built-ins.

Each ``McpServer`` of a TeamSpec is reached over stdio (a program the worker starts) or
streamable HTTP (a URL, checked by the network guard). Its tools become registry ``Tool``s named
``<server>.<tool>`` whose arguments are validated against the server's own input schema; an
MCP error result or a server that dies comes back to the agent as a failed tool result.

    async with mcp_registry(spec.mcp_servers, settings) as tools:
        registry = builtin_registry().merged(tools)
        ...  # run the team; the sessions stay open until the block ends

A server's environment holds only the variables its spec names, read from the worker's own
environment by name, so secrets live in the environment, not in the spec.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import mcp_types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from ..interfaces import ToolContext
from .netguard import BlockedAddress, NetworkPolicy, check_url
from .registry import Registry, Tool, ToolFailure
from .schema_args import SchemaArgs, args_model

CONNECT_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 60.0


class McpUnavailable(Exception):
    """A server could not be started, reached or listed; the message says which and why."""


@asynccontextmanager
async def mcp_registry(
    servers: Iterable[Any], settings: dict[str, Any] | None = None
) -> AsyncIterator[Registry]:
    """A registry with every tool of ``servers`` (TeamSpec ``McpServer``s), open for the block."""
    settings = settings or {}
    async with AsyncExitStack() as stack:
        registry = Registry()
        for server in servers:
            session = await _connect(server, settings, stack)
            for tool in await _list_tools(server.name, session):
                registry.add(_wrap(server.name, tool, session))
        yield registry


async def list_server_tools(server: Any, settings: dict[str, Any] | None = None) -> list[dict]:
    """What a server offers, as ``GET /api/tools`` shows it; connects and disconnects."""
    async with mcp_registry([server], settings) as registry:
        return [tool.describe() for tool in registry.all()]


async def _connect(server: Any, settings: dict[str, Any], stack: AsyncExitStack) -> ClientSession:
    try:
        # The transports' task groups outlive this call, so only the handshake is timed.
        streams = await stack.enter_async_context(_transport(server, settings))
        session = await stack.enter_async_context(ClientSession(*streams))
        with anyio.fail_after(CONNECT_TIMEOUT_S):
            await session.initialize()
    except McpUnavailable:
        raise
    except TimeoutError as exc:
        raise McpUnavailable(
            f"MCP server {server.name!r} did not answer within {CONNECT_TIMEOUT_S:g} s."
        ) from exc
    except Exception as exc:
        raise McpUnavailable(f"Could not connect to MCP server {server.name!r}: {exc}") from exc
    return session


def _transport(server: Any, settings: dict[str, Any]) -> Any:
    if server.transport == "stdio":
        if not server.command:
            raise McpUnavailable(f"MCP server {server.name!r} has no command to start.")
        command, *args = server.command
        # The interpreter running the worker, for servers written as "python -m ...".
        command = sys.executable if command in ("python", "python3") else command
        return stdio_client(
            StdioServerParameters(command=command, args=args, env=_environment(server))
        )
    if not server.url:
        raise McpUnavailable(f"MCP server {server.name!r} has no URL.")
    try:
        # The SDK uses its own HTTP client, so the guard checks the URL before connecting; the
        # connection itself resolves the name again (see docs/architecture.md).
        check_url(server.url, NetworkPolicy.from_settings(settings))
    except BlockedAddress as exc:
        raise McpUnavailable(f"MCP server {server.name!r}: {exc}") from exc
    return streamable_http_client(server.url)


def _environment(server: Any) -> dict[str, str]:
    missing = [variable for variable in server.env.values() if variable not in os.environ]
    if missing:
        raise McpUnavailable(
            f"MCP server {server.name!r} needs the environment variables "
            f"{', '.join(missing)} on the worker; ask the operator to set them."
        )
    return {name: os.environ[variable] for name, variable in server.env.items()}


async def _list_tools(server_name: str, session: ClientSession) -> list[mcp_types.Tool]:
    tools: list[mcp_types.Tool] = []
    cursor = None
    while True:
        params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
        page = await session.list_tools(params=params)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            return tools


def _wrap(server_name: str, tool: mcp_types.Tool, session: ClientSession) -> Tool:
    async def call(args: SchemaArgs, context: ToolContext) -> Any:
        try:
            result = await session.call_tool(
                tool.name, args.values(), read_timeout_seconds=CALL_TIMEOUT_S
            )
        except Exception as exc:  # the server died or answered nonsense
            raise ToolFailure(f"MCP server {server_name!r} failed: {exc}") from exc
        return _result(result)

    return Tool(
        name=f"{server_name}.{tool.name}",
        description=tool.description or tool.title or tool.name,
        args_model=args_model(tool.name, tool.input_schema),
        function=call,
        timeout_s=CALL_TIMEOUT_S + 5,
        source=f"mcp:{server_name}",
    )


def _result(result: mcp_types.CallToolResult) -> Any:
    texts = [block.text for block in result.content if isinstance(block, mcp_types.TextContent)]
    if result.is_error:
        raise ToolFailure(" ".join(texts) or "The MCP tool reported an error.")
    if result.structured_content is not None:
        return result.structured_content
    if len(texts) == 1:
        try:
            return json.loads(texts[0])
        except json.JSONDecodeError:
            return texts[0]
    return {"content": [block.model_dump(mode="json") for block in result.content]}
