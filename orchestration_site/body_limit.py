"""A cap on request bodies at daphne's door (``REQUEST_MAX_BODY_BYTES``).

daphne reads a request's whole body (Twisted writes it to a temporary file, then daphne puts
every chunk of it into the application's queue at once) before Django sees the request, so no
check in Django can refuse a large body early: a 300 MB ``POST`` to ``/healthz``, with no
log-in, left one web process 300 MB larger for good. Here the request is refused while it
arrives: a declared ``Content-Length`` over the cap is answered 413 before a byte of the body is
read, and a body without one (chunked) is answered 413 as soon as it passes the cap; either way
nothing of it is kept and the connection is closed, as nginx's ``client_max_body_size`` does.

It wraps three methods of daphne's request class (``daphne.http_protocol.WebRequest``), private
parts: pyproject.toml bounds daphne and Twisted, and tests/site/test_library_internals_we_rely_on.py
fails by name if their source changes. ``install`` is called by orchestration_site.asgi, so it
holds wherever daphne serves the site (the deployment, docker compose, the tests' server).
"""

from __future__ import annotations

import io
import logging
from typing import Any

from django.conf import settings

log = logging.getLogger(__name__)

#: What ``install`` wrapped, by name: the library's own methods (tests fingerprint them).
WRAPPED: dict[str, Any] = {}
_REFUSED = "_orchestrator_body_refused"
_LEFT = "_orchestrator_body_left"


def _limit() -> int:
    return int(settings.REQUEST_MAX_BODY_BYTES)


def _refuse(request: Any) -> None:
    """Answer 413 on the raw connection and close it; the request is never processed."""
    setattr(request, _REFUSED, True)
    request.content = io.BytesIO()  # nothing of the body is kept
    limit = _limit()
    body = (
        f"The request body is larger than {limit} bytes, the most this site accepts.\n"
    ).encode()
    request.channel.transport.write(
        b"HTTP/1.1 413 Content Too Large\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        + f"Content-Length: {len(body)}\r\n".encode()
        + b"Connection: close\r\n\r\n"
        + body
    )
    request.channel.loseConnection()
    client = request.getClientAddress()
    log.warning(
        "Refused a request body over %s bytes from %s", limit, getattr(client, "host", client)
    )


def install() -> None:
    """Wrap daphne's request class once (idempotent)."""
    from daphne.http_protocol import WebRequest

    if getattr(WebRequest, "_orchestrator_body_limit", False):
        return
    got_length = WRAPPED["gotLength"] = WebRequest.gotLength
    handle_content_chunk = WRAPPED["handleContentChunk"] = WebRequest.handleContentChunk
    process = WRAPPED["process"] = WebRequest.process

    def gotLength(self: Any, length: int | None) -> None:
        setattr(self, _LEFT, _limit())
        if length is not None and length > getattr(self, _LEFT):
            _refuse(self)
            return
        got_length(self, length)

    def handleContentChunk(self: Any, data: bytes) -> None:
        if getattr(self, _REFUSED, False):
            return  # the connection is closing: what is still in its buffer is dropped
        left = getattr(self, _LEFT, _limit()) - len(data)
        setattr(self, _LEFT, left)
        if left < 0:
            _refuse(self)
            return
        handle_content_chunk(self, data)

    def guarded_process(self: Any) -> Any:
        if getattr(self, _REFUSED, False):
            return None  # answered 413 already; the application never sees it
        return process(self)

    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.process = guarded_process
    WebRequest._orchestrator_body_limit = True
