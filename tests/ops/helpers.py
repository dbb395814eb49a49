"""What the ops tests share: an HTTP receiver that records what is POSTed to it, a way to
wait for something another thread does, and a supervisor run's stored events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from runs.engine import events as ev
from runs.engine.events import Event, chain_hash, span_id_for
from runs.models import Run, RunEvent


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


def supervisor_events(start: float = 1_700_000_000.0) -> list[Event]:
    """A supervisor run as the engine records it: the lead delegates to the researcher, who
    calls the calculator, and the lead answers. Paths and span ids follow runs.engine.context."""
    clock = iter(start + 0.5 * i for i in range(100))
    run, lead, lead_t1 = "run", "run/lead", "run/lead/t1"
    call, researcher = "run/lead/t1/c0", "run/lead/t1/c0/researcher"
    r_t1, r_call, lead_t2 = f"{researcher}/t1", f"{researcher}/t1/c0", "run/lead/t2"

    def event(
        type_: str, key: str, where: str, parent: str | None, agent: str | None, **payload: Any
    ) -> Event:
        parent_id = span_id_for(parent) if parent else None
        return Event(type_, key, next(clock), agent, span_id_for(where), parent_id, payload)

    def answer(
        path: str, parent: str, agent: str, content: str, tokens: tuple[int, int]
    ) -> list[Event]:
        usage = {"input_tokens": tokens[0], "output_tokens": tokens[1]}
        response = {"content": content, "usage": usage, "finish_reason": "stop"}
        return [
            event(ev.MESSAGE, path, path, parent, agent, role="assistant", content=content,
                  tool_calls=[], activity_key=path, response=response, simulated=True),
            event(ev.USAGE, f"{path}#usage", path, parent, agent, model="offline", cost_usd=0,
                  totals={}, **usage),
        ]  # fmt: skip

    return [
        event(ev.RUN_STARTED, "run:started", run, None, None, input={}, team="Research desk", pattern="supervisor"),
        event(ev.AGENT_STARTED, f"{lead}:started", lead, run, "lead", task="6*7?", path=lead),
        event(ev.TURN_STARTED, f"{lead_t1}:started", lead_t1, lead, "lead", turn=1),
        *answer(lead_t1, lead, "lead", "", (30, 8)),
        event(ev.TOOL_CALL, f"{call}:call", call, lead_t1, "lead", tool="delegate_to_researcher",
              arguments={"task": "6*7"}, call_id="c0", activity_key=call),
        event(ev.AGENT_STARTED, f"{researcher}:started", researcher, call, "researcher", task="6*7", path=researcher),
        event(ev.TURN_STARTED, f"{r_t1}:started", r_t1, researcher, "researcher", turn=1),
        *answer(r_t1, researcher, "researcher", "", (20, 5)),
        event(ev.TOOL_CALL, f"{r_call}:call", r_call, r_t1, "researcher", tool="calculator",
              arguments={"expression": "6*7"}, call_id="c0", activity_key=r_call),
        event(ev.TOOL_RESULT, r_call, r_call, r_t1, "researcher", tool="calculator", call_id="c0",
              ok=True, result=42, error=None, activity_key=r_call, duration_ms=1),
        event(ev.TURN_STARTED, f"{researcher}/t2:started", f"{researcher}/t2", researcher, "researcher", turn=2),
        *answer(f"{researcher}/t2", researcher, "researcher", "42", (25, 2)),
        event(ev.AGENT_FINISHED, f"{researcher}:finished", researcher, call, "researcher", output="42", status="ok", reason=None),
        event(ev.TOOL_RESULT, call, call, lead_t1, "lead", tool="delegate_to_researcher", call_id="c0",
              ok=True, result="42", error=None, activity_key=call, duration_ms=1500),
        event(ev.TURN_STARTED, f"{lead_t2}:started", lead_t2, lead, "lead", turn=2),
        *answer(lead_t2, lead, "lead", "It is 42.", (40, 6)),
        event(ev.AGENT_FINISHED, f"{lead}:finished", lead, run, "lead", output="It is 42.", status="ok", reason=None),
        event(ev.RUN_FINISHED, "run:finished", run, None, None, output="It is 42."),
    ]  # fmt: skip


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
