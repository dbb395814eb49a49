"""Tools from MCP servers: connect to a team's servers, list their tools, call them like
built-ins.

Each ``McpServer`` of a TeamSpec is reached over stdio (a server from the operator's registry,
see ``mcp_servers``, that the worker starts) or streamable HTTP (a URL, connected to through the
network guard). Its tools become registry ``Tool``s named
``<server>.<tool>`` whose arguments are validated against the server's own input schema; an
MCP error result or a server that dies comes back to the agent as a failed tool result.

    async with mcp_registry(spec.mcp_servers, settings) as tools:
        registry = builtin_registry().merged(tools)
        ...  # run the team; the sessions stay open until the block ends

A spec never decides what program runs or what it receives: a stdio server is the registry's
command and arguments, with only the variables the operator listed for it, read from the
worker's environment. A spec saved before the registry (``command``/``env`` in it) is refused
here too, before anything starts, whatever validation said when it was saved.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import httpx2
import mcp_types
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import MCP_DEFAULT_SSE_READ_TIMEOUT, MCP_DEFAULT_TIMEOUT

from ..interfaces import ToolContext
from .mcp_servers import RegisteredServer, parse_registry
from .netguard import BlockedAddress, NetworkPolicy, check_url, guarded_mcp_client
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
    """A registry with every tool of ``servers`` (TeamSpec ``McpServer``s), open for the block.

    ``settings["mcp_servers"]`` is the operator's registry (``mcp_servers.as_setting``)."""
    settings, servers = settings or {}, list(servers)
    for server in servers:  # refuse before starting any, so a bad one starts nothing
        _refuse_programs_in_spec(server)
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
    # Each server gets its own stack: when a transport fails (a refused address, a dead
    # server), its task group cancels us and keeps the reason until it is closed, so it is
    # closed here and its reason becomes the error, not an exception group at the run's end.
    connection = AsyncExitStack()
    try:
        # The transports' task groups outlive this call, so only the handshake is timed.
        streams = await connection.enter_async_context(_transport(server, settings))
        session = await connection.enter_async_context(ClientSession(*streams))
        with anyio.fail_after(CONNECT_TIMEOUT_S):
            await session.initialize()
    except BaseException as exc:
        try:
            await connection.aclose()
        except BaseException as closing:
            raise _unavailable(server, closing) from closing
        if isinstance(exc, Exception):
            raise _unavailable(server, exc) from exc
        raise  # cancelled from outside: the run is stopping
    stack.push_async_exit(connection)
    return session


def _unavailable(server: Any, failure: BaseException) -> BaseException:
    """The error a person reads for a server that could not be reached."""
    while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
        failure = failure.exceptions[0]
    if isinstance(failure, McpUnavailable | anyio.get_cancelled_exc_class()):
        return failure
    if isinstance(failure, TimeoutError):
        return McpUnavailable(
            f"MCP server {server.name!r} did not answer within {CONNECT_TIMEOUT_S:g} s."
        )
    if isinstance(failure, BlockedAddress):
        return McpUnavailable(f"MCP server {server.name!r}: {failure}")
    return McpUnavailable(f"Could not connect to MCP server {server.name!r}: {failure}")


def _refuse_programs_in_spec(server: Any) -> None:
    if getattr(server, "command", None) or getattr(server, "env", None):
        raise McpUnavailable(
            f"MCP server {server.name!r} names a program or environment variables in the team "
            "itself, which is no longer allowed, so nothing was started. Edit the team and "
            "choose one of the MCP servers the operator registered instead."
        )


def _transport(server: Any, settings: dict[str, Any]) -> Any:
    if server.transport == "stdio":
        return stdio_client(_registered(server, settings))
    if not server.url:
        raise McpUnavailable(f"MCP server {server.name!r} has no URL.")
    policy = NetworkPolicy.from_settings(settings)
    try:
        check_url(server.url, policy)  # an early, clear refusal; the client checks again
    except BlockedAddress as exc:
        raise McpUnavailable(f"MCP server {server.name!r}: {exc}") from exc
    return _guarded_http(server.url, policy)


@asynccontextmanager
async def _guarded_http(url: str, policy: NetworkPolicy) -> AsyncIterator[Any]:
    """The streamable-HTTP transport on a guarded client: the name is resolved once, at connect
    time, and the connection goes to the address checked, so a DNS answer that changes after
    ``check_url`` (DNS rebinding) cannot reach a private host."""
    timeout = httpx2.Timeout(MCP_DEFAULT_TIMEOUT, read=MCP_DEFAULT_SSE_READ_TIMEOUT)
    async with (
        guarded_mcp_client(policy, timeout=timeout) as client,
        streamable_http_client(url, http_client=client) as streams,
    ):
        yield streams


def _registered(server: Any, settings: dict[str, Any]) -> StdioServerParameters:
    """The start parameters of the registered server the spec names: only the registry's."""
    registry = parse_registry(settings.get("mcp_servers") or {})
    entry: RegisteredServer | None = registry.get(server.server) if server.server else None
    if entry is None:
        known = ", ".join(sorted(registry)) or "none"
        raise McpUnavailable(
            f"MCP server {server.name!r} refers to {server.server!r}, which is not one of the "
            f"MCP servers the operator registered ({known}). Choose a registered one."
        )
    # The interpreter running the worker, for servers written as "python -m ...".
    command = sys.executable if entry.command in ("python", "python3") else entry.command
    return StdioServerParameters(
        command=command, args=list(entry.args), env=_environment(server.name, entry)
    )


def _environment(name: str, entry: RegisteredServer) -> dict[str, str]:
    missing = [variable for variable in entry.env if variable not in os.environ]
    if missing:
        raise McpUnavailable(
            f"MCP server {name!r} needs the environment variables {', '.join(missing)} on "
            "the worker; ask the operator to set them."
        )
    return {variable: os.environ[variable] for variable in entry.env}


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
