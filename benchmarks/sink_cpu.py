"""CPU cost of one event on the sink's path: chain, store, build the broadcast.

For batches of 1, 10 and 100 events of about 500 bytes (one run per batch), and for 20 runs
of 5 events stored in one transaction (what a worker carrying many runs commits), with and
without ``usage`` events (every fifth event, so the run's totals are written too), this
measures the process CPU time (``time.process_time``: this process only, not the database
server's) of

- chain: numbering, cleaning and hash-chaining the events (``runs.chain.chain``);
- store: inserting them and the runs' new totals in one transaction (``store_many``);
- publish: the ``events`` message for the group and its serialization for Redis.

Reproduce (PostgreSQL running; without DATABASE_URL it measures SQLite):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench SECRET_KEY=bench \\
    AUDIT_SIGNING_KEY=YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \\
    .venv/bin/python manage.py migrate
    (same variables) .venv/bin/python benchmarks/sink_cpu.py [--events 3000]
It prints microseconds of CPU per event, step by step; the last line is one JSON object
with, per shape, the total (``<shape>_us``) and the events the whole path handles per second
of CPU (``<shape>_events_per_cpu_s``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only")
# Signs the runs' audit heads (a fixed key: benchmarks sign nothing that matters).
os.environ.setdefault("AUDIT_SIGNING_KEY", "YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk=")

import django

django.setup()

import msgpack  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402

from runs.broadcast import events_message  # noqa: E402
from runs.chain import ChainHead, chain  # noqa: E402
from runs.engine.events import MESSAGE, USAGE, Event  # noqa: E402
from runs.models import Run, RunEvent  # noqa: E402
from runs.shell.store import store_many, usage_totals  # noqa: E402

SHAPES = {"1x1": (1, 1), "1x10": (1, 10), "1x100": (1, 100), "20x5": (20, 5)}


def message_event(n: int) -> Event:
    payload = {
        "role": "assistant",
        "content": "The reviewer found two issues in the diff; both are fixed now. " * 5,
        "tool_calls": [{"id": f"call_{n}", "name": "lint", "arguments": {"path": "app.py"}}],
        "activity_key": f"writer/turn/{n}",
        "simulated": False,
    }
    return Event(MESSAGE, f"writer/message/{n}", time.time(), "writer", f"s{n}", "s0", payload)


def usage_event(n: int) -> Event:
    payload = {
        "model": "gpt-4o-mini",
        "input_tokens": 1200,
        "output_tokens": 300,
        "cost_usd": 0.00036,
        "totals": {"run": {"input_tokens": 1200 * n}, "agent": {"output_tokens": 300 * n}},
    }
    return Event(USAGE, f"writer/usage/{n}", time.time(), "writer", f"s{n}", "s0", payload)


def events(count: int, with_usage: bool, offset: int) -> list[Event]:
    return [
        usage_event(n) if with_usage and n % 5 == 4 else message_event(n)
        for n in range(offset, offset + count)
    ]


def totals(rows: list[RunEvent]) -> dict[str, Any] | None:
    """New totals for the run when ``rows`` used tokens (their sum stands in: same cost)."""
    used = usage_totals(rows)
    return used if any(used.values()) else None


def measure(runs: int, size: int, with_usage: bool, total: int) -> dict[str, float]:
    """CPU microseconds per event of each step, over about ``total`` events."""
    owner, _ = User.objects.get_or_create(username="sink-cpu-benchmark")
    run_ids = [Run.objects.create(owner=owner, team_name="b", spec={}).id for _ in range(runs)]
    heads = [ChainHead() for _ in range(runs)]
    spent = {"chain": 0.0, "store": 0.0, "publish": 0.0}
    done = 0
    while done < total:
        batch_events = [events(size, with_usage, head.seq) for head in heads]
        started = time.process_time()
        rows = [chain(i, h, e) for i, h, e in zip(run_ids, heads, batch_events, strict=True)]
        batches = [(i, r, totals(r)) for i, r in zip(run_ids, rows, strict=True)]
        chained = time.process_time()
        results = store_many(batches)
        stored = time.process_time()
        for r in rows:
            msgpack.packb(events_message(r), use_bin_type=True)
        published = time.process_time()
        assert results == [None] * runs, results
        spent["chain"] += chained - started
        spent["store"] += stored - chained
        spent["publish"] += published - stored
        done += runs * size
    return {step: round(seconds / done * 1e6, 1) for step, seconds in spent.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=3000, help="events per measurement")
    args = parser.parse_args()
    measure(1, 10, True, 200)  # warm up: connection, caches
    figures: dict[str, Any] = {}
    for name, (runs, size) in SHAPES.items():
        for with_usage in (False, True):
            label = f"{name}{'_usage' if with_usage else ''}"
            # The least of three: what the path costs, with as little noise from others.
            tries = [measure(runs, size, with_usage, args.events) for _ in range(3)]
            per_event = min(tries, key=lambda figures: sum(figures.values()))
            per_event["total"] = round(sum(per_event.values()), 1)
            print(f"{label:>11}: " + "  ".join(f"{k} {v:6.1f}" for k, v in per_event.items()))
            figures[f"{label}_us"] = per_event["total"]
            figures[f"{label}_events_per_cpu_s"] = round(1e6 / per_event["total"])
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
