"""The network guard refuses loopback, private, link-local and other non-public addresses,
after DNS resolution, and connects to exactly the address it checked."""

from __future__ import annotations

import httpx
import pytest

from runs.engine.tools.netguard import (
    BlockedAddress,
    NetworkPolicy,
    check_url,
    guarded_async_client,
    guarded_client,
)

from .conftest import LocalServer


def resolving_to(*addresses: str, calls: list[str] | None = None):
    def resolver(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        return list(addresses)

    return resolver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:a00:1::",
    ],
)
def test_it_refuses_non_public_addresses(address: str) -> None:
    with pytest.raises(BlockedAddress, match="allowed_private_networks"):
        NetworkPolicy().check_address("example.test", address)


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_it_lets_public_addresses_through(address: str) -> None:
    assert str(NetworkPolicy().check_address("example.test", address)) == address


def test_it_refuses_a_literal_loopback_url() -> None:
    with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1.*loopback"):
        check_url("http://127.0.0.1:8000/admin", NetworkPolicy())
    with pytest.raises(BlockedAddress, match="loopback"):
        check_url("http://[::ffff:127.0.0.1]/", NetworkPolicy())


def test_it_refuses_a_name_that_resolves_to_a_private_address() -> None:
    policy = NetworkPolicy(resolver=resolving_to("10.0.0.1"))
    with pytest.raises(BlockedAddress, match=r"internal\.example\.com \(10\.0\.0\.1\).*private"):
        check_url("https://internal.example.com/", policy)


def test_it_refuses_a_name_with_one_public_and_one_private_address() -> None:
    policy = NetworkPolicy(resolver=resolving_to("93.184.215.14", "192.168.0.10"))
    with pytest.raises(BlockedAddress):
        check_url("https://mixed.example.com/", policy)


def test_it_refuses_other_schemes() -> None:
    with pytest.raises(BlockedAddress, match="Only http and https"):
        check_url("file:///etc/passwd", NetworkPolicy())


def test_it_allows_what_the_operator_listed() -> None:
    policy = NetworkPolicy.from_settings(
        {"allowed_private_networks": ["10.0.0.0/8", "build.internal"]},
        resolver=resolving_to("192.168.7.7"),
    )
    assert str(policy.check_address("anything", "10.1.2.3")) == "10.1.2.3"
    assert check_url("http://build.internal/", policy)[0].exploded == "192.168.7.7"
    with pytest.raises(BlockedAddress):
        policy.check_address("other.internal", "192.168.7.7")


async def test_the_async_client_refuses_loopback_before_connecting(
    local_server: LocalServer,
) -> None:
    async with guarded_async_client(NetworkPolicy()) as client:
        with pytest.raises(BlockedAddress):
            await client.get(local_server.url())
    assert local_server.received == []


def test_the_sync_client_refuses_a_name_resolving_to_loopback(local_server: LocalServer) -> None:
    policy = NetworkPolicy(resolver=resolving_to("127.0.0.1"))
    with guarded_client(policy) as client, pytest.raises(BlockedAddress):
        client.get(local_server.url(host="innocent.example.com"))
    assert local_server.received == []


async def test_it_connects_to_the_address_it_checked(local_server: LocalServer) -> None:
    # The name is resolved once, by the guard, and the request reaches that address while the
    # Host header keeps the name: no second lookup a rebinding DNS server could answer.
    calls: list[str] = []
    policy = NetworkPolicy.allowing(
        ["127.0.0.1/32"], resolver=resolving_to("127.0.0.1", calls=calls)
    )
    async with guarded_async_client(policy) as client:
        response = await client.get(local_server.url("/hello", host="service.example.com"))
    assert response.json()["host"] == f"service.example.com:{local_server.port}"
    assert calls == ["service.example.com"]
    assert [r.path for r in local_server.received] == ["/hello"]


async def test_it_ignores_proxy_settings_from_the_environment(
    local_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", local_server.url())
    policy = NetworkPolicy(resolver=resolving_to("10.0.0.1"))
    async with guarded_async_client(policy) as client:
        with pytest.raises(BlockedAddress):
            await client.get("http://internal.example.com/")
    assert local_server.received == []


def test_a_refusal_is_an_httpx_transport_error() -> None:
    # Callers that already handle httpx.TransportError handle refusals too.
    assert issubclass(BlockedAddress, httpx.TransportError)
