"""Tools of an MCP server (started by the test, over stdio or streamable HTTP) are listed as
``<server>.<tool>`` and called like built-ins; their errors and a broken server are results the
agent can read."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.mcp import McpUnavailable, list_server_tools, mcp_registry
from teams.spec import McpServer

ROOT = Path(__file__).resolve().parents[2]
SERVER_MODULE = "tests.tools.mcp_inventory_server"


def stdio_server(**overrides) -> McpServer:
    fields = {"name": "inventory", "transport": "stdio", "command": ["python", "-m", SERVER_MODULE]}
    return McpServer(**{**fields, **overrides})


@pytest.fixture
def in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # so "python -m tests.tools..." finds the server module


async def test_an_agent_calls_a_tool_of_a_stdio_server(
    context: ToolContext, in_project_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_WAREHOUSE_NAME", "Rotterdam")
    server = stdio_server(env={"WAREHOUSE": "TEST_WAREHOUSE_NAME"})
    async with mcp_registry([server]) as tools:
        registry = builtin_registry().merged(tools)
        # What the model sees: the tool by its qualified name with the server's schema.
        [schema] = registry.schemas(["inventory.stock_level"])
        assert schema.parameters["required"] == ["sku"]
        assert "warehouse" in schema.description
        # What the agent's call returns, through the same registry as the built-ins.
        result = await registry.call("inventory.stock_level", {"sku": "LAMP-01"}, context)
        assert result.ok, result.error
        assert result.result == {"sku": "LAMP-01", "units": 14, "warehouse": "Rotterdam"}
        reorder = await registry.call("inventory.reorder_list", {"threshold": 20}, context)
        assert reorder.ok and reorder.result == {"result": ["DESK-02", "LAMP-01"]}


async def test_tool_errors_and_bad_arguments_are_results(
    context: ToolContext, in_project_root: None
) -> None:
    async with mcp_registry([stdio_server()]) as registry:
        unknown = await registry.call("inventory.stock_level", {"sku": "NOPE"}, context)
        assert not unknown.ok and "Unknown SKU NOPE" in unknown.error
        missing = await registry.call("inventory.stock_level", {}, context)
        assert not missing.ok and "'sku' is a required property" in missing.error


async def test_listing_a_servers_tools(in_project_root: None) -> None:
    tools = await list_server_tools(stdio_server())
    assert [t["name"] for t in tools] == ["inventory.reorder_list", "inventory.stock_level"]
    assert {t["source"] for t in tools} == {"mcp:inventory"}


async def test_a_missing_secret_names_the_variable(in_project_root: None) -> None:
    server = stdio_server(env={"API_KEY": "INVENTORY_KEY_NOT_SET"})
    with pytest.raises(McpUnavailable, match="INVENTORY_KEY_NOT_SET"):
        async with mcp_registry([server]):
            pass


async def test_a_server_that_cannot_start_is_a_clear_error() -> None:
    server = stdio_server(command=["/nonexistent/mcp-server"])
    with pytest.raises(McpUnavailable, match="Could not connect to MCP server 'inventory'"):
        async with mcp_registry([server]):
            pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_server() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", SERVER_MODULE, "http", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(200):  # wait until it accepts connections
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_a_streamable_http_server_works_when_allowed(
    http_server: str, context: ToolContext
) -> None:
    server = McpServer(name="stock", transport="http", url=http_server)
    settings = {"allowed_private_networks": ["127.0.0.1/32"]}
    async with mcp_registry([server], settings) as registry:
        result = await registry.call("stock.stock_level", {"sku": "CHAIR-03"}, context)
    assert result.ok and result.result["units"] == 112


async def test_a_streamable_http_server_on_loopback_is_refused_by_default(http_server: str) -> None:
    server = McpServer(name="stock", transport="http", url=http_server)
    with pytest.raises(McpUnavailable, match="loopback"):
        async with mcp_registry([server]):
            pass


async def test_an_offline_agent_in_a_run_calls_the_mcp_tool(in_project_root: None) -> None:
    # A one-agent team whose agent has the MCP tool; the offline model calls it with the SKU
    # from the input, and the run records the call and the server's real answer.
    from tests.engine.helpers import run
    from tests.factories import make_agent, make_spec

    team = make_spec(
        "supervisor",
        [make_agent("clerk", tools=["inventory.stock_level"])],
        mcp_servers=[stdio_server().model_dump()],
    )
    async with mcp_registry(team.mcp_servers) as tools:
        outcome, sink = await run(team, {"sku": "CHAIR-03"}, tools=builtin_registry().merged(tools))
    assert outcome.status == "succeeded", outcome.reason
    [call] = sink.of("tool.call")
    assert call.payload["tool"] == "inventory.stock_level"
    assert call.payload["arguments"] == {"sku": "CHAIR-03"}
    [result] = sink.of("tool.result")
    assert result.payload["ok"] is True
    assert '"units": 112' in outcome.output
