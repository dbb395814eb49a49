"""What operating it costs a run: metrics per event, and building a run's trace.

Reproduce:  make install && .venv/bin/python benchmarks/ops_overhead.py

- memory_store_events_per_s: events counted per second by ``metrics.observe_events`` in the
  process's own ``prometheus_client`` registry, in batches of 20 (a sink commit's usual size).
- single_events_per_s: one event per call: the worst case.
- trace_spans_per_s: spans planned and handed to the OpenTelemetry SDK per second when a run's
  trace is built from its events (the in-memory exporter, so no network).
- scrapes_per_s: renderings of /metrics per second with 50 more label sets counted.

The last line is the JSON summary.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import types
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
# Signs the runs' audit heads (a fixed key: benchmarks sign nothing that matters).
os.environ.setdefault("AUDIT_SIGNING_KEY", "YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk=")

import django

django.setup()

from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)

from runs import metrics, telemetry  # noqa: E402
from runs.engine import events as ev  # noqa: E402
from runs.engine.events import Event  # noqa: E402
from tests.engine.helpers import run as run_engine  # noqa: E402
from tests.factories import make_agent, make_edge, make_spec  # noqa: E402

BATCH = 20


def sample_events(n: int) -> list[Event]:
    kinds = [
        (ev.USAGE, {"model": "gpt-4o-mini", "input_tokens": 300, "output_tokens": 40}),
        (ev.TOOL_RESULT, {"tool": "search_documents", "ok": True}),
        (ev.MESSAGE, {"role": "assistant"}),
        (ev.TOOL_CALL, {"tool": "search_documents"}),
    ]
    return [
        Event(kinds[i % 4][0], f"k{i}", 1.0 + i, "researcher", "s", "p", kinds[i % 4][1])
        for i in range(n)
    ]


def rate(events: list[Event], batch: int) -> float:
    run = types.SimpleNamespace(team_name="Research desk", started_at=None, events=None)
    started = time.perf_counter()
    for i in range(0, len(events), batch):
        metrics.observe_events(run, events[i : i + batch])
    return len(events) / (time.perf_counter() - started)


def trace_rate(repeats: int = 20) -> float:
    spec = make_spec(
        "supervisor",
        [make_agent("lead"), make_agent("researcher", tools=["calculator"])],
        [make_edge("lead", "researcher", "delegates")],
    )
    _, sink = asyncio.run(run_engine(spec, "What is 6*7?"))
    provider = telemetry.new_provider()
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    run = types.SimpleNamespace(id=uuid.uuid4(), team_name="Research desk", status="succeeded")
    started = time.perf_counter()
    for _ in range(repeats):
        telemetry.emit_trace(run, [telemetry.SpanEvent.of(e) for e in sink.events], provider)
    return len(exporter.get_finished_spans()) / (time.perf_counter() - started)


def median(function: Any, *args: Any) -> float:
    return statistics.median(function(*args) for _ in range(5))


def main() -> None:
    events = sample_events(4000)
    figures: dict[str, float] = {
        "memory_store_events_per_s": round(median(rate, events, BATCH)),
        "single_events_per_s": round(median(rate, events[:1000], 1)),
    }
    figures["trace_spans_per_s"] = round(median(trace_rate))
    for i in range(50):
        metrics.TOOL_CALLS.labels(f"tool{i}").inc()
    metrics.live_gauges = lambda: iter(())  # no database in this benchmark
    started = time.perf_counter()
    for _ in range(100):
        metrics.render()
    figures["scrapes_per_s"] = round(100 / (time.perf_counter() - started))
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
