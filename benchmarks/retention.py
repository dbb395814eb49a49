"""How long a retention pass holds locks, and whether a live run notices it.

Makes ``--runs`` finished runs of ``--events`` events each, ended 40 days ago, then archives
them (``runs.archive.archive_old_runs``, 30 days) while one thread keeps appending events to a
running run, one transaction each, as an executor does. Reports each DELETE transaction's
duration (how long it held the locks of the rows it removed), the pass's throughput, and the
live appends' latency during the pass against the same appends with no pass.

Reproduce (PostgreSQL running):
    createdb -h 127.0.0.1 -U postgres bench_retention
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_retention .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_retention .venv/bin/python \\
        benchmarks/retention.py [--runs 20 --events 5000]
The last line is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

from _stack import setup_django  # noqa: E402


def appends_while(work: Any, run: Any) -> tuple[list[float], Any]:
    """Append to ``run`` on a thread until ``work()`` returns; the latencies and its result."""
    from django.db import connection

    from tests.factories import append_event

    latencies: list[float] = []
    stop = threading.Event()

    def append_until_stopped() -> None:
        try:
            while not stop.is_set():
                started = time.perf_counter()
                append_event(run, "message", payload={"n": len(latencies)})
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()

    thread = threading.Thread(target=append_until_stopped)
    thread.start()
    try:
        result = work()
    finally:
        stop.set()
        thread.join()
    return latencies, result


def p(values: list[float], q: float) -> float:
    return (
        round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 1)
        if len(values) > 1
        else 0.0
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--events", type=int, default=5000)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings
    from django.contrib.auth.models import User

    from runs import archive
    from tests.factories import make_ended_run, make_run

    settings.ARCHIVE_ROOT = Path(tempfile.mkdtemp(prefix="archives-"))
    owner, _ = User.objects.get_or_create(username="retention-bench")
    for _ in range(args.runs):
        make_ended_run(owner, events=args.events)
    live = make_run(owner, status="running")

    baseline, _ = appends_while(lambda: time.sleep(3), live)
    started = time.perf_counter()
    during, done = appends_while(lambda: archive.archive_old_runs(30, settings.ARCHIVE_BATCH), live)
    took = time.perf_counter() - started
    figures = {
        "runs_archived": len(done.archived),
        "events_deleted": done.events_deleted,
        "events_per_s": round(done.events_deleted / took),
        "delete_batch": archive.EVENT_DELETE_BATCH,
        "delete_ms_p50": p(done.delete_ms, 50),
        "delete_ms_p99": p(done.delete_ms, 99),
        "delete_ms_max": round(done.longest_delete_ms, 1),
        "append_ms_p50_idle": p(baseline, 50),
        "append_ms_p99_idle": p(baseline, 99),
        "append_ms_p50_during_pass": p(during, 50),
        "append_ms_p99_during_pass": p(during, 99),
        "append_ms_max_during_pass": round(max(during), 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
