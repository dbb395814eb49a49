"""A request body over REQUEST_MAX_BODY_BYTES is refused by the web process as it arrives,
before daphne reads it into memory (orchestration_site/body_limit.py): with no log-in, anyone
could otherwise leave a web process hundreds of MB larger with one POST."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 1024 * 1024


@pytest.fixture
def capped(settings: Any) -> int:
    settings.REQUEST_MAX_BODY_BYTES = LIMIT
    return LIMIT


def connect(asgi_server: Any) -> socket.socket:
    where = urlsplit(asgi_server.url)
    return socket.create_connection((where.hostname, where.port), timeout=10)


def answer(sock: socket.socket) -> bytes:
    """What the server sent until it closed the connection (or 10 s passed)."""
    got = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        got += chunk
    return got


def send_until_refused(sock: socket.socket, head: bytes, chunks: Any) -> int:
    """Send ``head`` then ``chunks`` until the server stops taking them; the bytes of body
    it took."""
    sock.sendall(head)
    sent = 0
    try:
        for chunk in chunks:
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_a_declared_length_over_the_cap_is_refused_before_the_body_is_read(
    asgi_server: Any, capped: int
) -> None:
    declared = 300 * 1024 * 1024  # 300 MB, as the attack sent
    sock = connect(asgi_server)
    head = (
        f"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    sock.sendall(head)
    got = answer(sock)  # no byte of the body sent: the answer comes anyway
    assert got.startswith(b"HTTP/1.1 413"), got[:200]
    assert f"larger than {capped} bytes".encode() in got
    sent = send_until_refused(sock, b"", (b"x" * 65536 for _ in range(declared // 65536)))
    assert sent < declared  # the server closed the connection: the 300 MB were never taken


def test_a_chunked_body_is_refused_once_it_passes_the_cap(asgi_server: Any, capped: int) -> None:
    sock = connect(asgi_server)
    head = (
        b"POST /api/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"x" * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    total = 200 * 1024 * 1024 // len(piece)  # 200 MB, if the server kept reading
    sent = send_until_refused(sock, head, (chunk for _ in range(total)))
    got = answer(sock)
    assert got.startswith(b"HTTP/1.1 413"), got[:200]
    assert sent < 20 * capped  # it stopped reading soon after the cap, not at 200 MB


def test_a_body_under_the_cap_still_reaches_the_site(asgi_server: Any, capped: int) -> None:
    sock = connect(asgi_server)
    body = b"{" + b" " * (capped - 10) + b"}"
    sock.sendall(
        b"POST /api/teams HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    got = answer(sock)
    status = got.split(b"\r\n", 1)[0]
    # Django answered (no log-in: 401), not the door's 413.
    assert status.startswith(b"HTTP/1.1 4") and b"413" not in status, got[:300]
