"""A custom HTTP tool built from a definition validates its arguments against the author's
schema, fills the URL, puts in its owner's secrets (only for their hosts) and goes through the
guard."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from runs.engine.interfaces import ToolContext
from runs.engine.tools import Registry, builtin_registry
from runs.engine.tools.http_tool import (
    BoundSecret,
    HttpToolDefinition,
    http_tool,
    http_tools_registry,
)

from .conftest import LocalServer

SCHEMA = {
    "type": "object",
    "properties": {"order_id": {"type": "string"}, "verbose": {"type": "boolean"}},
    "required": ["order_id"],
}


def order_lookup(
    url: str = "https://api.example.com/orders/{order_id}", **overrides
) -> HttpToolDefinition:
    fields = {
        "name": "order_lookup", "description": "Look up an order by id.", "parameters": SCHEMA,
        "url": url, "headers": {"Authorization": "secret:ORDERS_TOKEN", "X-Client": "orchestrator"},
    }  # fmt: skip
    return HttpToolDefinition(**{**fields, **overrides})


def orders_token(value: str = "t", *hosts: str) -> dict[str, BoundSecret]:
    """The owner's secrets as a run is given them: ORDERS_TOKEN, for 127.0.0.1 by default."""
    return {"ORDERS_TOKEN": BoundSecret(value, frozenset(hosts or ["127.0.0.1"]))}


async def test_it_calls_the_endpoint_with_the_arguments(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    registry = builtin_registry().merged(
        http_tools_registry(
            [order_lookup(local_server.url("/orders/{order_id}"))], orders_token("Bearer s3cret")
        )
    )
    result = await registry.call("order_lookup", {"order_id": "A 17/x", "verbose": True}, context)
    assert result.ok, result.error
    received = local_server.received[0]
    assert received.path == "/orders/A%2017%2Fx?verbose=true"
    assert received.headers["Authorization"] == "Bearer s3cret"
    assert "s3cret" not in str(result.result)  # the secret never reaches the agent


async def test_post_sends_the_other_arguments_as_json(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    tool = http_tool(
        order_lookup(local_server.url("/orders/{order_id}/notes"), method="POST"), orders_token()
    )
    result = await Registry([tool]).call(
        "order_lookup", {"order_id": "7", "verbose": False}, context
    )
    assert result.ok, result.error
    assert local_server.received[0].body == b'{"verbose":false}'


async def test_arguments_are_checked_against_the_authors_schema(context: ToolContext) -> None:
    tool = http_tool(order_lookup("https://api.example.com/orders/{order_id}"))
    assert tool.schema().parameters == SCHEMA  # the model sees exactly what the author wrote
    result = await Registry([tool]).call("order_lookup", {"order_id": 42}, context)
    assert not result.ok and "42 is not of type 'string'" in result.error
    result = await Registry([tool]).call("order_lookup", {}, context)
    assert not result.ok and "'order_id' is a required property" in result.error


async def test_a_missing_secret_says_which_secret_to_store(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    tool = http_tool(order_lookup(local_server.url("/orders/{order_id}")))
    result = await Registry([tool]).call("order_lookup", {"order_id": "1"}, context)
    assert not result.ok and "secret ORDERS_TOKEN" in result.error
    assert local_server.received == []


async def test_the_network_guard_applies(context: ToolContext, local_server: LocalServer) -> None:
    tool = http_tool(order_lookup(local_server.url("/orders/{order_id}")), orders_token())
    result = await Registry([tool]).call("order_lookup", {"order_id": "1"}, context)
    assert not result.ok and "loopback" in result.error
    assert local_server.received == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Order Lookup"},
        {"url": "ftp://example.com/"},
        {"parameters": {"type": "object", "properties": {"x": {"type": "nonsense"}}}},
        {"method": "TRACE"},
    ],
)
def test_bad_definitions_are_refused(overrides: dict) -> None:
    with pytest.raises(ValidationError):
        order_lookup(**overrides)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Authorization": "Bearer abc123"}, "store it as a secret"),
        ({"X-Api-Key": "abc"}, "store it as a secret"),
        ({"X-Token": "secret:lower case"}, "does not name a secret"),
        # Nobody names the workers' environment any more, whatever the header is called.
        ({"Authorization": "env:SECRET_KEY"}, "names an environment variable"),
        ({"X-Anything": "env:DATABASE_URL"}, "names an environment variable"),
    ],
)
def test_secret_headers_must_refer_to_a_stored_secret(headers: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        order_lookup(headers=headers)


async def test_a_secret_is_only_sent_to_the_hosts_it_is_bound_to(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    # The owner bound ORDERS_TOKEN to the shop; the tool (or an agent filling a placeholder in
    # the host) points at a listener instead.
    secrets = orders_token("Bearer s3cret", "shop.example.com")
    tool = http_tool(order_lookup(local_server.url("/orders/{order_id}")), secrets)
    result = await Registry([tool]).call("order_lookup", {"order_id": "1"}, context)
    assert not result.ok and "may only be sent to shop.example.com" in result.error
    assert "s3cret" not in result.error and local_server.received == []
    # A team's own allow-list narrows it further, never widens it.
    context.settings["http_allowed_hosts"] = ["other.example.com"]
    allowed = http_tool(order_lookup(local_server.url("/orders/{order_id}")), orders_token())
    result = await Registry([allowed]).call("order_lookup", {"order_id": "1"}, context)
    assert not result.ok and local_server.received == []
