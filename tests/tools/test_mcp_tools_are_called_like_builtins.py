"""Tools of an MCP server (one the operator registered, started over stdio, or one reached over
streamable HTTP) are listed as ``<server>.<tool>`` and called like built-ins; their errors and a
broken server are results the agent can read. A team never says what program to start."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.mcp import McpUnavailable, list_server_tools, mcp_registry
from runs.engine.tools.netguard import NetworkPolicy
from teams.spec import McpServer

ROOT = Path(__file__).resolve().parents[2]
SERVER_MODULE = "tests.tools.mcp_inventory_server"


def stdio_server(**overrides) -> McpServer:
    fields = {"name": "inventory", "transport": "stdio", "server": "inventory"}
    return McpServer(**{**fields, **overrides})


def operator_registry(**entry: Any) -> dict[str, Any]:
    """Tool settings with the operator's registry holding the inventory server."""
    server = {"command": "python", "args": ["-m", SERVER_MODULE], **entry}
    return {"mcp_servers": {"inventory": server}}


REGISTERED = operator_registry()


@pytest.fixture
def in_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # so "python -m tests.tools..." finds the server module


async def test_an_agent_calls_a_tool_of_a_stdio_server(
    context: ToolContext, in_project_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WAREHOUSE", "Rotterdam")
    async with mcp_registry([stdio_server()], operator_registry(env=["WAREHOUSE"])) as tools:
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
    async with mcp_registry([stdio_server()], REGISTERED) as tools:
        unknown = await tools.call("inventory.stock_level", {"sku": "NOPE"}, context)
        assert not unknown.ok and "Unknown SKU NOPE" in unknown.error
        missing = await tools.call("inventory.stock_level", {}, context)
        assert not missing.ok and "'sku' is a required property" in missing.error


async def test_listing_a_servers_tools(in_project_root: None) -> None:
    tools = await list_server_tools(stdio_server(), REGISTERED)
    assert [t["name"] for t in tools] == ["inventory.reorder_list", "inventory.stock_level"]
    assert {t["source"] for t in tools} == {"mcp:inventory"}


async def test_the_server_gets_only_the_variables_the_operator_listed(
    context: ToolContext, in_project_root: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The worker has WAREHOUSE set, but the operator's entry does not list it.
    monkeypatch.setenv("WAREHOUSE", "Rotterdam")
    async with mcp_registry([stdio_server()], REGISTERED) as tools:
        result = await tools.call("inventory.stock_level", {"sku": "LAMP-01"}, context)
    assert result.ok and result.result["warehouse"] == "unset"


async def test_a_missing_secret_names_the_variable(in_project_root: None) -> None:
    with pytest.raises(McpUnavailable, match="INVENTORY_KEY_NOT_SET"):
        async with mcp_registry([stdio_server()], operator_registry(env=["INVENTORY_KEY_NOT_SET"])):
            pass


async def test_a_server_that_cannot_start_is_a_clear_error() -> None:
    settings = operator_registry(command="/nonexistent/mcp-server", args=[])
    with pytest.raises(McpUnavailable, match="Could not connect to MCP server 'inventory'"):
        async with mcp_registry([stdio_server()], settings):
            pass


async def test_a_name_the_operator_did_not_register_starts_nothing() -> None:
    with pytest.raises(McpUnavailable, match="'github', which is not one of the MCP servers"):
        async with mcp_registry([stdio_server(server="github")], REGISTERED):
            pass


async def test_a_program_named_in_the_team_is_never_started(tmp_path: Path) -> None:
    # A spec saved before the registry existed, or written into the database by hand: the
    # worker refuses it before starting anything, even when a registered server is named too.
    proof = tmp_path / "proof.txt"
    attack = stdio_server(command=["sh", "-c", f"id > {proof}"])
    with pytest.raises(McpUnavailable, match="names a program or environment variables"):
        async with mcp_registry([attack], REGISTERED):
            pass
    assert not proof.exists()
    # A spec that only names worker variables to copy is refused the same way.
    with pytest.raises(McpUnavailable, match="names a program or environment variables"):
        async with mcp_registry([stdio_server(env={"KEY": "SECRET_KEY"})], REGISTERED):
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
    async with mcp_registry([server], settings) as tools:
        result = await tools.call("stock.stock_level", {"sku": "CHAIR-03"}, context)
    assert result.ok and result.result["units"] == 112


async def test_a_streamable_http_server_on_loopback_is_refused_by_default(http_server: str) -> None:
    server = McpServer(name="stock", transport="http", url=http_server)
    with pytest.raises(McpUnavailable, match="loopback"):
        async with mcp_registry([server]):
            pass


async def test_a_name_that_resolves_privately_at_connect_time_is_refused(
    http_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DNS rebinding: the attacker's name answers with a public address when the URL is
    # checked and with the private one (here the local test server) when the client connects.
    answers = iter(["93.184.216.34", "127.0.0.1"])
    rebinding = NetworkPolicy(resolver=lambda host, port: [next(answers, "127.0.0.1")])
    monkeypatch.setattr(NetworkPolicy, "from_settings", classmethod(lambda cls, s: rebinding))
    url = http_server.replace("127.0.0.1", "localhost")  # a name, so it is resolved
    server = McpServer(name="stock", transport="http", url=url)
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
    async with mcp_registry(team.mcp_servers, REGISTERED) as tools:
        outcome, sink = await run(team, {"sku": "CHAIR-03"}, tools=builtin_registry().merged(tools))
    assert outcome.status == "succeeded", outcome.reason
    [call] = sink.of("tool.call")
    assert call.payload["tool"] == "inventory.stock_level"
    assert call.payload["arguments"] == {"sku": "CHAIR-03"}
    [result] = sink.of("tool.result")
    assert result.payload["ok"] is True
    assert '"units": 112' in outcome.output
