"""Soak: a mixed load at half capacity for ``--minutes``; does anything grow or go wrong?

The load: one Celery worker process taking ``--concurrency`` runs at once and one daphne
process. Half the worker's slots are kept busy (a new run enqueued as each ends), alternating
a one-step and a three-step pipeline whose model answers after 1 s; every fourth run is
watched over the websocket from its start to its end, and the run list is read through the
API every few seconds, as the pages do.

What it reports:
  - resident memory (RSS) of the worker and of daphne right after the warm-up (the first
    quarter, at least a minute) and at the end, and the growth between them (target: 5 % at
    most);
  - errors: runs that did not succeed or whose chain does not verify, watchers that did not
    receive exactly the run's stored events, API reads that failed;
  - stored vs emitted events: the events in the database against the events the runs' sinks
    numbered and signed (each run's signed head says how many), summed over every run.

Reproduce (PostgreSQL and Redis running, database migrated with the same variables):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench .venv/bin/python benchmarks/soak.py --minutes 30
The last line is {"minutes", "runs", "errors", "events_stored", "events_emitted",
"worker_rss_growth_pct", "web_rss_growth_pct", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from concurrent.futures import Future
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The benchmarks folder is not a package: import the neighbours by path.
from _stack import setup_django, start_model_server, start_worker
from concurrent_runs import (
    MODEL_DELAY_S,
    REPLY,
    ended,
    enqueue_runs,
    forget_earlier_runs,
    make_team,
    wait_all,
)
from scale_out import watch_one
from streaming import free_port, start_daphne
from watchers import rss_kb

SAMPLE_S = 10.0


class Watchers:
    """Websocket watchers on an event loop of their own thread (the driver is synchronous)."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.watching: dict[str, Future[list[int]]] = {}

    def watch(self, run_id: str) -> None:
        url = f"{self.base}/ws/runs/{run_id}/"
        coroutine = watch_one(url, self.token, asyncio.Event())
        self.watching[run_id] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def results(self, within_s: float = 120.0) -> dict[str, list[int] | str]:
        out: dict[str, list[int] | str] = {}
        for run_id, future in self.watching.items():
            try:
                out[run_id] = future.result(timeout=within_s)
            except Exception as error:
                out[run_id] = repr(error)[:200]
        return out


def read_run_list(port: int, token: str, failures: list[str]) -> None:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/runs", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            if answer.status != 200:
                failures.append(f"GET /api/runs answered {answer.status}")
    except Exception as error:
        failures.append(f"GET /api/runs: {error!r}"[:200])


def verify_all(ids: list[str]) -> tuple[list[str], int, int]:
    """Problems, events stored and events emitted (per each run's signed head)."""
    from runs.audit import verify
    from runs.models import Run, RunEvent

    problems, stored, emitted = [], 0, 0
    for run in Run.objects.filter(id__in=ids):
        result = verify(run)
        count = RunEvent.objects.filter(run=run).count()
        stored += count
        emitted += result.get("signed_seq") or 0
        if run.status != "succeeded" or not result["ok"] or result["signed_seq"] != count:
            problems.append(f"run {run.id} {run.status}: {run.failure_reason} {result}"[:300])
    return problems, stored, emitted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=40, help="the worker's slots")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this soaks a Celery worker.")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    os.environ["SECURE_SSL_REDIRECT"] = "0"  # plain HTTP to the local daphne
    os.environ["QUOTA_WEBSOCKET_CONNECTS"] = "100000/minute"
    os.environ["QUOTA_WEBSOCKET_SUBSCRIBES"] = "100000/minute"
    os.environ["QUOTA_API_REQUESTS"] = "100000/minute"
    setup_django()
    from teams.models import ApiToken

    server, base_url = start_model_server(MODEL_DELAY_S, REPLY)
    teams = [make_team(base_url, 1), make_team(base_url, 3)]
    forget_earlier_runs(teams[0])
    worker = start_worker(args.concurrency, "soak")
    port = free_port()
    web: Any = None
    duration = args.minutes * 60
    warm_up = max(60.0, duration / 4)
    in_flight_target = args.concurrency // 2
    every: list[str] = []
    in_flight: set[str] = set()
    api_failures: list[str] = []
    samples: list[tuple[float, int, int]] = []
    after_warm_up: tuple[int, int] | None = None
    try:
        wait_all(enqueue_runs(teams[0], 1)[0], 120)  # the worker is up
        web = start_daphne(port)
        token = ApiToken.issue(teams[0].owner, "soak")[1]
        watchers = Watchers(f"ws://127.0.0.1:{port}", token)
        reader: threading.Thread | None = None
        started = next_sample = next_read = time.monotonic()
        while (now := time.monotonic()) < started + duration:
            for run_id, _ in ended(in_flight):
                in_flight.discard(run_id)
            for _ in range(in_flight_target - len(in_flight)):
                team = teams[len(every) % 2]
                [run_id] = enqueue_runs(team, 1)[0]
                if len(every) % 4 == 0:
                    watchers.watch(run_id)
                every.append(run_id)
                in_flight.add(run_id)
            if now >= next_read and (reader is None or not reader.is_alive()):
                # On a thread of its own: a slow answer must not hold up the load.
                reader = threading.Thread(target=read_run_list, args=(port, token, api_failures))
                reader.start()
                next_read = now + 5.0
            if now >= next_sample:
                samples.append((now - started, rss_kb(worker.pid), rss_kb(web.pid)))
                if after_warm_up is None and now - started >= warm_up:
                    after_warm_up = samples[-1][1:]
                next_sample = now + SAMPLE_S
            if worker.poll() is not None or web.poll() is not None:
                raise SystemExit("the worker or daphne exited")
            time.sleep(0.05)
        wait_all(list(in_flight), 120)
        end = (rss_kb(worker.pid), rss_kb(web.pid))
        watched = watchers.results()
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        if web is not None:
            web.terminate()
            web.wait(timeout=10)
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)

    problems, stored, emitted = verify_all(every)
    stored_of = stored_seqs(list(watched))
    wrong_watchers = [
        f"watcher of {r}: {seqs if isinstance(seqs, str) else f'seqs {seqs[:3]}..{seqs[-3:]}'}"
        f" (stored {len(stored_of[r])})"
        for r, seqs in watched.items()
        if seqs != stored_of[r]
    ]
    errors = len(problems) + len(wrong_watchers) + len(api_failures)
    assert after_warm_up is not None
    growth = [(e - w) * 100 / w for e, w in zip(end, after_warm_up, strict=True)]
    rate = len(every) / (duration / 60)
    print(f"{args.minutes:g} minutes: {len(every)} runs ({rate:.0f}/min), "
          f"{in_flight_target} in flight of the worker's {args.concurrency} slots, "
          f"{len(watched)} watched over the websocket")  # fmt: skip
    print(f"resident memory after {warm_up:.0f} s of warm-up -> end: worker "
          f"{after_warm_up[0] / 1024:.0f} -> {end[0] / 1024:.0f} MiB ({growth[0]:+.1f} %), daphne "
          f"{after_warm_up[1] / 1024:.0f} -> {end[1] / 1024:.0f} MiB ({growth[1]:+.1f} %); "
          "target <= 5 %")  # fmt: skip
    for name, column in (("worker", 1), ("daphne", 2)):
        mib = [round(s[column] / 1024) for s in samples]
        print(f"{name} RSS every {SAMPLE_S:g} s (MiB): {mib}; median {statistics.median(mib):.0f}")
    print(f"events stored {stored}, emitted (signed heads) {emitted}")
    print(f"errors: {errors} ({len(problems)} runs, {len(wrong_watchers)} watchers, "
          f"{len(api_failures)} API reads) {(problems + wrong_watchers + api_failures)[:3]}")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(json.dumps({
        "minutes": args.minutes, "runs": len(every), "watched": len(watched), "errors": errors,
        "events_stored": stored, "events_emitted": emitted,
        "worker_rss_growth_pct": round(growth[0], 1), "web_rss_growth_pct": round(growth[1], 1),
        "load_average": round(os.getloadavg()[0], 1),
    }))  # fmt: skip


def stored_seqs(run_ids: list[str]) -> dict[str, list[int]]:
    from runs.models import RunEvent

    out: dict[str, list[int]] = {r: [] for r in run_ids}
    rows = RunEvent.objects.filter(run_id__in=run_ids).order_by("run_id", "seq")
    for run_id, seq in rows.values_list("run_id", "seq"):
        out[str(run_id)].append(seq)
    return out


if __name__ == "__main__":
    main()
