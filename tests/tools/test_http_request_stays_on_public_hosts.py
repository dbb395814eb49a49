"""http_request refuses loopback and private destinations (also behind a name), honours the
host allow-list and caps what it reads; allowed requests really go out."""

from __future__ import annotations

import socket

import pytest

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry

from .conftest import LocalServer


async def fetch(context: ToolContext, **args):
    return await builtin_registry().call("http_request", args, context)


async def test_it_refuses_127_0_0_1(context: ToolContext, local_server: LocalServer) -> None:
    result = await fetch(context, url=local_server.url("/admin"))
    assert not result.ok
    assert "loopback" in result.error and "allowed_private_networks" in result.error
    assert local_server.received == []


async def test_it_refuses_a_name_resolving_to_10_0_0_1(
    context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's own resolver answers for the name, as an attacker's DNS would.
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "intranet.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port or 80))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    result = await fetch(context, url="http://intranet.example.com/payroll")
    assert not result.ok
    assert "10.0.0.1" in result.error and "private" in result.error


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://0.0.0.0:8000/"]
)
async def test_it_refuses_other_local_addresses(url: str, context: ToolContext) -> None:
    result = await fetch(context, url=url)
    assert not result.ok and "Refused" in result.error


async def test_an_operator_may_allow_a_private_network(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    result = await fetch(context, url=local_server.url("/status?x=1"))
    assert result.ok, result.error
    assert result.result["status"] == 200 and result.result["json"]["path"] == "/status?x=1"


async def test_it_posts_json(context: ToolContext, local_server: LocalServer) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1"]
    result = await fetch(
        context, url=local_server.url("/items"), method="POST", json_body={"name": "lamp"},
        headers={"X-Trace": "abc", "Host": "evil.example"},
    )  # fmt: skip
    assert result.ok
    received = local_server.received[0]
    assert received.method == "POST" and received.body == b'{"name":"lamp"}'
    assert received.headers["X-Trace"] == "abc"
    assert received.headers["Host"] == f"127.0.0.1:{local_server.port}"  # not settable


async def test_the_host_allow_list_is_enforced(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    context.settings["http_allowed_hosts"] = ["api.example.com", "*.partner.example"]
    result = await fetch(context, url=local_server.url())
    assert not result.ok and "allow-list" in result.error
    assert local_server.received == []


async def test_large_responses_are_cut_at_the_size_cap(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings.update(allowed_private_networks=["127.0.0.1/32"], http_max_bytes=1000)
    local_server.reply_size = 50_000
    result = await fetch(context, url=local_server.url())
    assert result.ok
    assert result.result["truncated"] is True and len(result.result["text"]) == 1000


async def test_a_closed_port_is_a_clear_failure(context: ToolContext) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    result = await fetch(context, url=f"http://127.0.0.1:{port}/")
    assert not result.ok and "failed" in result.error


async def test_other_schemes_are_refused(context: ToolContext) -> None:
    result = await fetch(context, url="file:///etc/passwd")
    assert not result.ok and "Only http and https" in result.error
