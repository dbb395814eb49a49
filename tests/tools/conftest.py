"""Fixtures for tool tests: a local HTTP server that records what it receives, and a small
artifact store that writes to a temporary directory."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from runs.engine.interfaces import ToolContext
from tests.support.sandbox import sandbox_user


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class LocalServer:
    port: int
    received: list[Received] = field(default_factory=list)
    reply_size: int = 0  # extra bytes of padding in each reply, to test size caps

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def local_server() -> Iterator[LocalServer]:
    server_state = LocalServer(port=0)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server_state.received.append(
                Received(self.command, self.path, dict(self.headers.items()), body)
            )
            payload = json.dumps(
                {
                    "path": self.path,
                    "host": self.headers.get("Host"),
                    "padding": "x" * server_state.reply_size,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _reply

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server_state
    httpd.shutdown()
    httpd.server_close()


class DirectoryArtifacts:
    """An ``ArtifactStore`` that writes files to a directory, as the shell's store would."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.saved: list[dict[str, Any]] = []

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        path = self.root / name
        path.write_bytes(data)
        ref = {
            "id": str(len(self.saved) + 1),
            "name": name,
            "content_type": content_type,
            "url": path.as_uri(),
            "size": len(data),
        }
        self.saved.append(ref)
        return ref


@pytest.fixture
def artifacts(tmp_path: Path) -> DirectoryArtifacts:
    root = tmp_path / "artifacts"
    root.mkdir()
    return DirectoryArtifacts(root)


@pytest.fixture
def context(tmp_path: Path, artifacts: DirectoryArtifacts) -> ToolContext:
    return ToolContext(
        run_id="run-1",
        agent="tester",
        artifacts=artifacts,
        settings={
            "outbox_dir": str(tmp_path / "outbox"),
            "data_cache_dir": str(tmp_path / "cache"),
            "sandbox_user": sandbox_user(),
        },
    )
