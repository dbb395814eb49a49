"""How much a websocket connection has queued for its client and not yet sent.

A consumer's ``send`` never waits: daphne hands each message to its Twisted transport, which
writes what the socket takes and keeps the rest in the process, without bound. The channel
layer is no help (the pubsub layer's per-channel queue drains as fast as the consumer
forwards), and ASGI has no word for back-pressure. So a watcher that reads slower than its
run writes would cost the web process memory until the run ends; the consumer asks the
transport after each send instead (``runs.consumers.RunConsumer.send``) and closes a watcher
whose backlog passes ``WATCHER_MAX_BACKLOG_BYTES``.

``BacklogMiddleware``, outermost around the websocket stack (where ``send`` is still the
server's own, before the session middleware wraps it), puts a reader in the scope as
``scope["backlog"]``. It reads daphne's and Twisted's internals (daphne's ``send`` is
``partial(server.handle_reply, protocol)``; a TCP transport keeps its unsent bytes in
``dataBuffer`` from ``offset``, plus ``_tempDataBuffer``). The same reader writes the frames
a run's watchers share (``send_prepared``). Under another server, or on a
transport without those (daphne serving TLS itself), there is no reading and no bound:
tests/runs/test_slow_watchers_are_closed.py fails if an upgrade moves them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any


class Backlog:
    """The unsent bytes of one daphne websocket connection, read on demand."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    @classmethod
    def of(cls, send: Callable[..., Any]) -> Backlog | None:
        protocol = next(iter(getattr(send, "args", ())), None)
        transport = getattr(protocol, "transport", None)
        if transport is None or not all(
            hasattr(transport, name) for name in ("dataBuffer", "offset", "_tempDataLen")
        ):
            return None
        return cls(protocol)

    def unsent_bytes(self) -> int:
        transport = self.protocol.transport
        if transport is None:  # the connection is gone: nothing is held for it
            return 0
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen

    def send_prepared(self, prepared: Any) -> bool:
        """Send an autobahn ``PreparedMessage`` (one frame made for many connections) if the
        websocket is plainly open; False otherwise (closing, compressing, frames queued in
        autobahn), and the caller sends through ASGI. Daphne's ASGI ``send`` frames the text
        again for every connection, and Twisted writes on the reactor's next turn (asking
        epoll to watch the socket, then to stop): with a thousand watchers of a run that
        was most of the work. When nothing waits for the socket, the frame goes to it at
        once, and Twisted keeps whatever the socket does not take, as its own write would."""
        protocol = self.protocol
        transport = protocol.transport
        if (
            transport is None
            or protocol.state != protocol.STATE_OPEN
            or protocol.send_queue
            or protocol._perMessageCompress is not None
            or getattr(transport, "TLS", True)
            or transport.disconnecting
        ):
            return False
        frame = prepared.payloadHybi
        if self.unsent_bytes() == 0:
            # Full (or broken: Twisted's own write finds out, and closes) takes it all.
            with contextlib.suppress(OSError):
                frame = frame[transport.socket.send(frame) :]
        if frame:
            transport.write(frame)
        return True

    def allow_closing_for(self, seconds: float) -> None:
        """Wait this long for the client's answer to our close frame, which sits behind the
        backlog: a slow reader still reads the close code, a dead one is dropped then."""
        self.protocol.closeHandshakeTimeout = seconds


class BacklogMiddleware:
    """Gives each websocket connection's scope its ``Backlog`` (or None)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        return await self.inner({**scope, "backlog": Backlog.of(send)}, receive, send)
