"""GET /api/tools lists built-ins and the caller's custom tools with their JSON schemas;
/api/custom-tools is CRUD on a user's HTTP tools, validated, owner-only, never storing a secret."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from runs.engine.interfaces import ToolContext
from teams.models import CustomTool
from tests.factories import make_custom_tool, make_secret, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def shop_token(alice: User) -> None:
    """Alice stored the shop's token, for the shop's host."""
    make_secret(alice, "SHOP_TOKEN", "tok", "shop.example.com")


ORDER_LOOKUP = {
    "name": "order_lookup",
    "description": "Look up an order by id.",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
    "url": "https://shop.example.com/api/orders/{order_id}",
    "method": "GET",
    "headers": {"Authorization": "secret:SHOP_TOKEN"},
}


def send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_it_lists_builtins_and_my_custom_tools_with_schemas(
    alice: User, alice_client: Client
) -> None:
    make_custom_tool(alice, name="order_lookup")
    make_custom_tool(make_user("bob"), name="bobs_tool")
    tools = {t["name"]: t for t in alice_client.get("/api/tools").json()}
    assert {"sql_query", "lint_diff", "http_request", "order_lookup"} <= tools.keys()
    assert "bobs_tool" not in tools
    assert tools["sql_query"]["parameters"]["properties"]["query"]["type"] == "string"
    assert tools["sql_query"]["source"] == "builtin"
    assert tools["order_lookup"]["source"] == "http"
    assert tools["order_lookup"]["parameters"]["required"] == ["order_id"]


def test_it_creates_reads_updates_and_deletes_a_tool(alice_client: Client) -> None:
    created = send(alice_client, "post", "/api/custom-tools", ORDER_LOOKUP)
    assert created.status_code == 201, created.json()
    tool_id = created.json()["id"]
    assert alice_client.get(f"/api/custom-tools/{tool_id}").json()["url"] == ORDER_LOOKUP["url"]

    changed = ORDER_LOOKUP | {"method": "POST", "description": "Add a note to an order."}
    updated = send(alice_client, "put", f"/api/custom-tools/{tool_id}", changed)
    assert updated.status_code == 200
    assert CustomTool.objects.get().method == "POST"

    assert alice_client.delete(f"/api/custom-tools/{tool_id}").status_code == 204
    assert not CustomTool.objects.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"name": "Order Lookup"}, "name"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"headers": {"Authorization": "Bearer s3cret"}}, "store it as a secret"),
        ({"headers": {"Authorization": "env:SECRET_KEY"}}, "names an environment variable"),
        ({"headers": {"Authorization": "secret:NOT_STORED"}}, "no secret named NOT_STORED"),
        # Alice's SHOP_TOKEN is bound to shop.example.com, not to a listener of the attacker's.
        (
            {"url": "https://listener.example.net/{order_id}"},
            "may only be sent to shop.example.com",
        ),
        ({"url": "https://{host}/orders"}, "needs a fixed host"),
        (
            {"parameters": {"type": "object", "properties": {"x": {"type": "nonsense"}}}},
            "JSON Schema",
        ),
        ({"method": "TRACE"}, "method"),
    ],
)
def test_a_bad_definition_is_refused_and_nothing_saved(
    alice_client: Client, change: dict, problem: str
) -> None:
    response = send(alice_client, "post", "/api/custom-tools", ORDER_LOOKUP | change)
    assert response.status_code == 422
    assert problem in str(response.json()["problems"])
    assert not CustomTool.objects.exists()


def test_names_must_be_unique_and_not_builtin(alice_client: Client) -> None:
    assert send(alice_client, "post", "/api/custom-tools", ORDER_LOOKUP).status_code == 201
    again = send(alice_client, "post", "/api/custom-tools", ORDER_LOOKUP)
    assert again.status_code == 409 and "already have a tool" in again.json()["detail"]
    builtin = send(alice_client, "post", "/api/custom-tools", ORDER_LOOKUP | {"name": "sql_query"})
    assert builtin.status_code == 409 and "built-in" in builtin.json()["detail"]
    assert CustomTool.objects.count() == 1


def test_another_users_tool_is_not_found(alice_client: Client) -> None:
    theirs = make_custom_tool(make_user("bob"))
    assert alice_client.get(f"/api/custom-tools/{theirs.pk}").status_code == 404
    assert (
        send(alice_client, "put", f"/api/custom-tools/{theirs.pk}", ORDER_LOOKUP).status_code == 404
    )
    assert alice_client.delete(f"/api/custom-tools/{theirs.pk}").status_code == 404
    assert CustomTool.objects.filter(pk=theirs.pk).exists()


def test_anonymous_callers_are_refused() -> None:
    assert Client().get("/api/tools").status_code == 401
    assert Client().get("/api/custom-tools").status_code == 401


def test_a_team_may_use_my_custom_tool(alice: User, alice_client: Client) -> None:
    make_custom_tool(alice, name="order_lookup")
    spec = {
        "pattern": "supervisor", "entry": "lead",
        "nodes": [{"kind": "agent", "id": "lead", "name": "Lead", "tools": ["order_lookup"]}],
    }  # fmt: skip
    result = send(alice_client, "post", "/api/teams/validate", spec).json()
    assert not [p for p in result["problems"] if p["code"] == "unknown_tool"]


def test_the_stored_tool_runs_through_the_network_guard(alice: User) -> None:
    make_custom_tool(alice, url="http://127.0.0.1:9/orders/{order_id}")
    registry = CustomTool.objects.for_user(alice).registry()
    call = registry.call("order_lookup", {"order_id": "1"}, ToolContext("r", "a"))
    result = asyncio.run(call)
    assert not result.ok and "loopback" in result.error
