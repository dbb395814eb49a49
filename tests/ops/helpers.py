"""What the ops tests share: an HTTP receiver that records what is POSTed to it, a way to
wait for something another thread does, and a supervisor run's stored events."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runs.engine.events import Event, chain_hash
from runs.models import Run, RunEvent
from tests.engine.helpers import run
from tests.factories import make_agent, make_edge, make_spec


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status in ``statuses`` (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    url: str = ""

    def status_for_next(self) -> int:
        index = min(len(self.requests), len(self.statuses)) - 1
        return self.statuses[max(index, 0)]


@contextmanager
def http_receiver(statuses: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(statuses or [200])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                receiver.requests.append(Received(self.path, dict(self.headers), body))
                status = receiver.status_for_next()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def wait_until(condition: Callable[[], Any], what: str, within_s: float = 20.0) -> Any:
    """Polls until ``condition()`` is truthy; fails saying what never happened."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"Gave up waiting: {what}")


def supervisor_events(question: str = "What is 6*7?") -> list[Event]:
    """The events the real engine records for a supervisor run with the offline model: the lead
    delegates to the researcher, who calls the calculator, and the lead answers."""
    spec = make_spec(
        "supervisor",
        [make_agent("lead"), make_agent("researcher", tools=["calculator"])],
        [make_edge("lead", "researcher", "delegates")],
    )
    outcome, sink = asyncio.run(run(spec, question))
    assert outcome.status == "succeeded", outcome
    return sink.events


def store_events(run: Run, events: list[Event]) -> list[RunEvent]:
    """Appends events the way the run shell does: numbered, timestamped, hash-chained."""
    previous = run.events.order_by("-seq").first()
    seq, last_hash = (previous.seq, previous.hash) if previous else (0, "")
    stored = []
    for event in events:
        seq += 1
        last_hash = chain_hash(last_hash, {"seq": seq, **event.to_dict()})
        row = RunEvent.objects.create(
            run=run,
            seq=seq,
            ts=datetime.fromtimestamp(event.ts, UTC),
            type=event.type,
            key=event.key,
            agent=event.agent or "",
            span_id=event.span_id or "",
            parent_span_id=event.parent_span_id or "",
            payload=event.payload,
            hash=last_hash,
        )
        stored.append(row)
    return stored
