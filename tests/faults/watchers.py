"""A websocket watcher as the browser's run page behaves: it subscribes after the last ``seq``
it holds, and when the connection drops it connects again (the web process may be gone for a
while) and subscribes after that ``seq`` once more."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from runs.engine.events import TERMINAL_TYPES


@dataclass
class Watcher:
    url: Callable[[], str]  # the web process's base URL now (it may move when restarted)
    run_id: str
    token: str
    events: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    drops: list[str] = field(default_factory=list)

    @property
    def last_seq(self) -> int:
        return self.events[-1]["seq"] if self.events else 0

    async def watch(self, within_s: float = 90.0) -> list[dict[str, Any]]:
        """Every event until the run's terminal one, reconnecting as often as it takes."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            try:
                if await self._one_connection(deadline):
                    return self.events
            except (OSError, ConnectionClosed, InvalidHandshake, InvalidStatus, TimeoutError) as e:
                self.drops.append(repr(e)[:200])
                await asyncio.sleep(0.2)  # the web process is away: try again shortly
        raise AssertionError(
            f"{self.run_id}: no terminal event after {within_s} s; seqs {self.seqs()}, drops {self.drops[-3:]}"
        )

    async def _one_connection(self, deadline: float) -> bool:
        headers = [("Authorization", f"Bearer {self.token}")]
        address = f"{self.url()}/ws/runs/{self.run_id}/"
        async with connect(address, additional_headers=headers, open_timeout=5) as socket:
            self.connections += 1
            await socket.send(json.dumps({"type": "subscribe", "after_seq": self.last_seq}))
            while time.monotonic() < deadline:
                message = json.loads(await asyncio.wait_for(socket.recv(), 30))
                if message["type"] != "events":
                    continue
                self.events += message["events"]
                if self.events[-1]["type"] in TERMINAL_TYPES:
                    return True
        return False

    def seqs(self) -> list[int]:
        return [e["seq"] for e in self.events]
