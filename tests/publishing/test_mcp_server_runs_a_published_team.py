"""The MCP server at /mcp/, on the running site (daphne, with whatever executes runs): the
`mcp` SDK's own streamable-HTTP client lists the published team as a tool and calls it, and
gets the team's output, written by the local OpenAI-compatible test server. Without a key of
the publication nothing gets in; arguments the team's input schema refuses start nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import httpx2
import pytest
from django.contrib.auth.models import User
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from publishing.actions import do_publish
from publishing.models import PublicationKey
from runs.models import Run
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.support.openai_server import Reply, ScriptedOpenAIServer

from .helpers import INPUT_SCHEMA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def published_desk(model_server: ScriptedOpenAIServer, rate_limit: str = "") -> str:
    """A team answering through the scripted model, published as help-desk; its key."""
    alice = make_user("alice")
    make_model_config(alice, model_server.base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted",
            "instructions": "Answer the question."}  # fmt: skip
    team = make_team(alice, minimal_spec(name="Help desk", nodes=[lead], input_schema=INPUT_SCHEMA))
    publication = do_publish(team, team.version, "help-desk", rate_limit, alice)
    return PublicationKey.issue(publication, "claude desktop", alice)[1]


async def with_session(url: str, key: str, work: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(120)) as http,
        streamable_http_client(f"{url}/mcp/", http_client=http) as streams,
        ClientSession(*streams) as session,
    ):
        await session.initialize()
        return await work(session)


def test_an_mcp_client_lists_the_team_and_calls_it_for_its_output(
    asgi_server: Any,
    model_server: ScriptedOpenAIServer,
) -> None:
    model_server.on(lambda r: "6 * 7" in r.user, Reply.text("42, says the help desk."))
    key = published_desk(model_server)
    billing = make_team(User.objects.get(), minimal_spec(name="Billing"))
    do_publish(billing, billing.version, "billing", "", billing.owner)

    async def list_and_call(session: ClientSession) -> Any:
        tools = (await session.list_tools()).tools
        called = await session.call_tool("help-desk", {"question": "What is 6 * 7?"})
        refused = await session.call_tool("help-desk", {"question": 42})
        with pytest.raises(MCPError, match="Unknown tool 'billing'"):
            await session.call_tool("billing", {})  # published, but not with this key
        return tools, called, refused

    tools, called, refused = asyncio.run(with_session(asgi_server.url, key, list_and_call))

    assert [(t.name, t.title) for t in tools] == [("help-desk", "Help desk")]
    assert tools[0].input_schema == INPUT_SCHEMA
    assert called.is_error is not True, called.content
    assert called.content[0].text == "42, says the help desk."
    run = Run.objects.get(id=called.structured_content["run_id"])
    assert run.status == "succeeded" and run.started_by.startswith("publication:")
    assert run.owner.username == "alice"
    # Arguments the schema refuses: an error result saying why, and no run.
    assert refused.is_error is True
    assert "input schema" in refused.content[0].text
    assert Run.objects.count() == 1


def test_the_mcp_endpoint_refuses_a_missing_or_bad_key(
    asgi_server: Any,
    model_server: ScriptedOpenAIServer,
) -> None:
    key = published_desk(model_server)
    url = f"{asgi_server.url}/mcp/"
    for authorization in (None, "Bearer pub_guessed", f"Basic {key}"):
        headers = {**MCP_HEADERS, **({"Authorization": authorization} if authorization else {})}
        response = httpx.post(url, json=INITIALIZE, headers=headers, timeout=30)
        assert response.status_code == 401, (authorization, response.text)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    # The SDK's client with a revoked key gets nowhere either.
    PublicationKey.objects.get().revoke()

    async def list_tools(session: ClientSession) -> Any:
        return await session.list_tools()

    with pytest.raises(ExceptionGroup) as failed:
        asyncio.run(with_session(asgi_server.url, key, list_tools))
    assert failed.group_contains(MCPError, match="error response", depth=None)


def test_the_mcp_endpoint_counts_against_the_keys_rate(
    asgi_server: Any,
    model_server: ScriptedOpenAIServer,
) -> None:
    key = published_desk(model_server, rate_limit="1/minute")
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}"}
    first = httpx.post(f"{asgi_server.url}/mcp/", json=INITIALIZE, headers=headers, timeout=30)
    assert first.status_code == 200, first.text
    second = httpx.post(f"{asgi_server.url}/mcp/", json=INITIALIZE, headers=headers, timeout=30)
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) >= 1


def test_wait_true_answers_with_the_output(
    asgi_server: Any,
    model_server: ScriptedOpenAIServer,
) -> None:
    model_server.on(lambda r: "capital" in r.user, Reply.text("Paris."))
    key = published_desk(model_server)
    response = httpx.post(
        f"{asgi_server.url}/p/help-desk/runs?wait=true",
        json={"input": {"question": "The capital of France?"}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "succeeded"
    assert response.json()["output"] == "Paris."
