"""The network guard: outgoing HTTP that cannot reach this machine or its private network.

Anything that fetches a URL chosen by a model or a user (``http_request``, custom HTTP tools,
model servers (``GuardedResolver``, for the ``openai`` provider's aiohttp transport),
publishing webhooks) goes through here, so that a prompt cannot make a worker read
``http://169.254.169.254/`` or an internal admin page. The API is three names:

    policy = NetworkPolicy.from_settings(context.settings)   # what settings allow
    async with guarded_async_client(policy) as client:         # an httpx.AsyncClient
        response = await client.get(url)                       # raises BlockedAddress
    with guarded_client(policy) as client: ...                 # the same, synchronous

The check happens inside the connection itself: the client's network backend resolves the host
once, refuses if any address is loopback, private, link-local, reserved, multicast or otherwise
not global (IPv4 and IPv6, including IPv4-mapped and NAT64 forms), and connects to exactly the
address it checked. There is no second lookup an attacker's DNS could answer differently
(DNS rebinding), redirects are checked like the first request because each one opens its own
connection, and environment proxies are ignored because a proxy would connect on our behalf.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp.abc
import anyio.to_thread
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``resolver(host, port)`` returns the IP addresses (as text) the host resolves to."""

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOWED_SCHEMES = ("http", "https")


class BlockedAddress(httpx.TransportError):
    """A request was refused because of where it would connect. The message says how to allow
    it, for an operator who means to."""


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpx.ConnectError(f"Could not resolve {host!r}: {exc.strerror}.") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class NetworkPolicy:
    """Which non-public destinations are allowed anyway: hosts by name, addresses by CIDR."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_settings(
        cls, settings: dict[str, Any], resolver: Resolver = system_resolver
    ) -> NetworkPolicy:
        """Reads ``settings["allowed_private_networks"]``: CIDRs, addresses or host names."""
        return cls.allowing(settings.get("allowed_private_networks") or (), resolver)

    @classmethod
    def allowing(
        cls, entries: Iterable[str], resolver: Resolver = system_resolver
    ) -> NetworkPolicy:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts), resolver)

    def check_address(self, host: str, address: str) -> IPAddress:
        """The address, parsed, if a connection to it is allowed; else ``BlockedAddress``."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        reason = non_public_reason(ip)
        if reason is None or self._allows(host, ip):
            return ip
        raise BlockedAddress(
            f"Refused to connect to {host} ({ip}): it is a {reason} address. Requests may only "
            "reach public addresses unless the operator lists the host or network in the "
            "allowed_private_networks setting."
        )

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Resolves ``host`` and checks every address it has; refuses if any one is not allowed
        (a name with one public and one private address is an attack, not a mirror)."""
        host = host.strip("[]")
        try:
            addresses: Sequence[str] = [str(ipaddress.ip_address(host.split("%", 1)[0]))]
        except ValueError:
            addresses = self.resolver(host, port)
        if not addresses:
            raise httpx.ConnectError(f"{host!r} resolved to no address.")
        return [self.check_address(host, address) for address in addresses]

    def _allows(self, host: str, ip: IPAddress) -> bool:
        if host.lower().rstrip(".") in self.allowed_hosts:
            return True
        return any(ip.version == net.version and ip in net for net in self.allowed_networks)


def non_public_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` is not a public internet address, or None if it is one."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo or (None, None))[1]
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return non_public_reason(embedded)
    for reason, flag in (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return reason
    return None if ip.is_global else "non-global"


def check_url(url: str, policy: NetworkPolicy) -> list[IPAddress]:
    """Checks a URL before any request (scheme, host, addresses): a quick, early refusal with a
    clear message. The guarded clients check again at connect time, which is what counts."""
    parsed = httpx.URL(url)
    if parsed.scheme not in _ALLOWED_SCHEMES:
        raise BlockedAddress(f"Only http and https URLs are allowed, not {parsed.scheme!r}.")
    if not parsed.host:
        raise BlockedAddress(f"The URL {url!r} has no host.")
    return policy.resolve(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))


class _GuardedAsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: NetworkPolicy, backend: Any = None) -> None:
        self._policy = policy
        self._backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await anyio.to_thread.run_sync(self._policy.resolve, host, port)
        return await self._backend.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("Unix sockets are never reachable through the network guard.")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


class _GuardedSyncBackend(httpcore.NetworkBackend):
    def __init__(self, policy: NetworkPolicy) -> None:
        self._policy = policy
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._policy.resolve(host, port)
        return self._backend.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise BlockedAddress("Unix sockets are never reachable through the network guard.")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _GuardedAsyncTransport(httpx.AsyncHTTPTransport):
    def __init__(self, policy: NetworkPolicy) -> None:
        super().__init__(trust_env=False)
        # httpx has no public hook for the network backend, so the pool is rebuilt with ours;
        # TLS still verifies the certificate against the host name, not the address.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_GuardedAsyncBackend(policy),
        )


class _GuardedSyncTransport(httpx.HTTPTransport):
    def __init__(self, policy: NetworkPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            network_backend=_GuardedSyncBackend(policy),
        )


def guarded_async_client(policy: NetworkPolicy, **kwargs: Any) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` that connects only where ``policy`` allows (kwargs: timeout,
    headers, follow_redirects, ...). Refusals raise ``BlockedAddress``."""
    return httpx.AsyncClient(transport=_GuardedAsyncTransport(policy), trust_env=False, **kwargs)


def guarded_client(policy: NetworkPolicy, **kwargs: Any) -> httpx.Client:
    """The synchronous twin of ``guarded_async_client``, e.g. for webhooks sent from a task."""
    return httpx.Client(transport=_GuardedSyncTransport(policy), trust_env=False, **kwargs)


class GuardedResolver(aiohttp.abc.AbstractResolver):
    """The guard for aiohttp clients (the ``openai`` provider's transport): an
    ``aiohttp.TCPConnector(resolver=GuardedResolver(policy))`` connects only to addresses
    ``policy`` allows, checked when each connection is opened, so a name that answers
    differently the second time (DNS rebinding) is refused too.

    aiohttp does not ask a resolver about a host that is already an IP address: check such a
    URL with ``check_url`` (or ``policy.resolve``) before sending.
    """

    def __init__(self, policy: NetworkPolicy) -> None:
        self._policy = policy

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        addresses = await anyio.to_thread.run_sync(self._policy.resolve, host, port)
        return [
            {
                "hostname": host,
                "host": str(ip),
                "port": port,
                "family": socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for ip in addresses
        ]

    async def close(self) -> None:
        return None


def guarded_mcp_client(policy: NetworkPolicy, **kwargs: Any) -> Any:
    """The same guard for the MCP SDK, which speaks ``httpx2`` (a fork of httpx with its own
    connection pool): an ``httpx2.AsyncClient`` whose connections only go where ``policy``
    allows. Imported here, not at the top, so only processes that reach MCP servers load it."""
    import httpcore2
    import httpx2

    transport = httpx2.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore2.AsyncConnectionPool(
        ssl_context=httpx2.create_ssl_context(),
        # httpcore2 is httpcore under another name: the same backend interface, duck-typed.
        network_backend=_GuardedAsyncBackend(policy, httpcore2.AnyIOBackend()),  # type: ignore[arg-type]
    )
    return httpx2.AsyncClient(transport=transport, trust_env=False, **kwargs)
