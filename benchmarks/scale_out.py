"""Scale-out: the same sustained load on one and on two Celery worker processes, and watchers
split between two daphne processes.

1. Throughput: runs are pipelines of S agents whose model answers after 1 s (the load of
   benchmarks/concurrent_runs.py). Each worker process takes ``--concurrency`` runs at once
   (its ``-c``, the slots an operator gives it); the load keeps 2.5 x that many runs in
   flight, a new one enqueued as each ends, so one worker always has a queue and two workers
   have enough to fill both. Measured: runs ended per second in a window after a warm-up,
   first with one worker, then with two. ``scale`` is the second over the first: 2.0 is
   perfect, i.e. nothing shared (PostgreSQL, Redis, the claims on runs) holds the second
   process back.
2. Watchers across processes: with both workers up, ``--watched`` runs are created, two
   daphne processes started, and every run watched by one websocket client on each; then the
   runs are enqueued. Every watcher must receive exactly the run's stored events, each once,
   in order, although the worker that wrote them talks to neither daphne process directly.

Everything runs on this machine: the model server, the workers, PostgreSQL, Redis, daphne
and the watchers share its cores, so the figure says as much about the machine's spare CPU
as about the code. The load average and the hypervisor's steal are printed with it.

Reproduce (PostgreSQL and Redis running, database migrated with the same variables):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench .venv/bin/python benchmarks/scale_out.py \\
    [--concurrency 40] [--steps 3] [--warm-up 8] [--window 15] [--watched 10]
The last line is {"workers_1_runs_per_s", "workers_2_runs_per_s", "scale",
"cross_process_watchers_ok", ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The benchmarks folder is not a package: import the neighbours by path.
from _stack import (
    cpu_seconds,
    machine_times,
    model_server,
    setup_django,
    stolen_share,
    worker_processes,
)
from concurrent_runs import (
    MODEL_DELAY_S,
    REPLY,
    check,
    enqueue_runs,
    forget_earlier_runs,
    make_team,
    sustained,
    wait_all,
)
from streaming import free_port, start_daphne

TERMINAL = {"run.finished", "run.failed", "run.cancelled"}


# --- the watchers (a separate process) --------------------------------------------------


async def watch_one(url: str, token: str, ready: asyncio.Event) -> list[int]:
    from websockets.asyncio.client import connect

    seqs: list[int] = []
    headers = [("Authorization", f"Bearer {token}")]
    async with connect(url, additional_headers=headers, max_size=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"type": "subscribe", "after_seq": 0}))
        ready.set()
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] != "events":
                continue
            seqs += [e["seq"] for e in message["events"]]
            if message["events"][-1]["type"] in TERMINAL:
                return seqs


async def watch(token: str, bases: list[str], run_ids: list[str]) -> None:
    """Two watchers per run, one on each daphne process; "ready" once all subscribed, then
    one JSON line: [[run_id, base, seqs], ...]."""
    pairs = [(run_id, base) for run_id in run_ids for base in bases]
    readies = [asyncio.Event() for _ in pairs]
    tasks = [
        asyncio.create_task(watch_one(f"{base}/ws/runs/{run_id}/", token, ready))
        for (run_id, base), ready in zip(pairs, readies, strict=True)
    ]
    for ready in readies:
        await ready.wait()
    await asyncio.sleep(0.5)  # each consumer has joined its group
    print("ready", flush=True)
    results = await asyncio.gather(*tasks)
    print(json.dumps([[r, b, s] for (r, b), s in zip(pairs, results, strict=True)]), flush=True)


# --- the load ---------------------------------------------------------------------------


def measure(team: Any, workers: int, args: argparse.Namespace, server_pid: int) -> dict[str, Any]:
    """The sustained rate with ``workers`` worker processes."""
    ideal_s = args.steps * MODEL_DELAY_S
    with worker_processes(workers, args.concurrency, "scale") as processes:
        # Every worker is up and connected: enough runs that each takes some.
        wait_all(enqueue_runs(team, 2 * workers)[0], 120)
        load_before, machine_before = os.getloadavg()[0], machine_times()
        cpu_before = [cpu_seconds(p.pid) for p in processes]
        others_before = cpu_seconds(server_pid), cpu_seconds(os.getpid())
        in_flight = int(2.5 * args.concurrency)
        counted, kept = sustained(team, in_flight, ideal_s, args.warm_up, args.window)
        cpu_ms = sum(cpu_seconds(p.pid) - c for p, c in zip(processes, cpu_before, strict=True))
        others = [
            cpu_seconds(server_pid) - others_before[0],
            cpu_seconds(os.getpid()) - others_before[1],
        ]
        elapsed = args.warm_up + args.window
        figures = {
            "runs_per_s": counted / args.window,
            "ideal_runs_per_s": workers * args.concurrency / ideal_s,
            "cpu_ms_per_run": cpu_ms * 1000 / max(1, len(kept)),
            "load_average": max(load_before, os.getloadavg()[0]),
            "steal_pct": stolen_share(machine_before, machine_times()) * 100,
            "kept": kept,
            # Share of one core each used while sustained: where the CPU went.
            "workers_core_share": cpu_ms / elapsed,
            "model_server_core_share": others[0] / elapsed,
            "driver_core_share": others[1] / elapsed,
        }
        if workers == 2:
            figures["watchers"] = watch_across(team, args)
    check(kept)
    figures.update(waits(kept))
    return figures


def waits(ids: list[str]) -> dict[str, float]:
    """Median seconds a run waited in the queue, and ran: a queue near empty with runs
    longer than ideal says the workers are slow; a full queue says they are busy."""
    import statistics

    from runs.models import Run

    rows = Run.objects.filter(id__in=ids).values_list("created_at", "started_at", "finished_at")
    queued = [(s - c).total_seconds() for c, s, _ in rows if s]
    ran = [(f - s).total_seconds() for _, s, f in rows if s and f]
    return {"queued_s": statistics.median(queued), "ran_s": statistics.median(ran)}


def watch_across(team: Any, args: argparse.Namespace) -> dict[str, Any]:
    """``args.watched`` runs, each watched on both daphne processes from before it starts."""
    from django.db import transaction

    from runs.actions import new_run
    from runs.execution import enqueue
    from runs.models import RunEvent
    from teams.models import ApiToken

    os.environ["QUOTA_WEBSOCKET_CONNECTS"] = "100000/minute"
    os.environ["QUOTA_WEBSOCKET_SUBSCRIBES"] = "100000/minute"
    ports = [free_port(), free_port()]
    servers: list[subprocess.Popen[bytes]] = []
    watchers: subprocess.Popen[str] | None = None
    version = team.versions.get(number=team.version)
    with transaction.atomic():
        runs = [new_run(team.owner, version, {"task": f"watched {n}"}) for n in range(args.watched)]
    token = ApiToken.issue(team.owner, "scale-out benchmark")[1]
    bases = [f"ws://127.0.0.1:{port}" for port in ports]
    try:
        for port in ports:
            servers.append(start_daphne(port))
        watchers = subprocess.Popen(
            [sys.executable, __file__, "--watch", token, *bases, *(str(r.id) for r in runs)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert watchers.stdout is not None
        if watchers.stdout.readline().strip() != "ready":
            raise SystemExit("the watchers did not connect")
        for run in runs:
            enqueue(run)
        wait_all([str(r.id) for r in runs], 120)
        results = json.loads(watchers.stdout.readline())
        watchers.wait(timeout=60)
    finally:
        if watchers is not None:
            watchers.kill()
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    stored = {
        str(r.id): list(
            RunEvent.objects.filter(run=r).order_by("seq").values_list("seq", flat=True)
        )
        for r in runs
    }
    wrong = [(run_id, base) for run_id, base, seqs in results if seqs != stored[run_id]]
    check([str(r.id) for r in runs])
    return {
        "watchers": len(results),
        "daphne_processes": len(servers),
        "events_per_run": sorted({len(s) for s in stored.values()}),
        "wrong": wrong,
        "ok": not wrong and len(results) == 2 * len(runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=40, help="runs per worker at once")
    parser.add_argument("--steps", type=int, default=3, help="model calls per run, 1 s each")
    parser.add_argument("--warm-up", type=float, default=8.0, help="seconds before the window")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured")
    parser.add_argument("--watched", type=int, default=10, help="runs watched on both daphnes")
    parser.add_argument("--watch", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.watch:
        token, bases, run_ids = args.watch[0], args.watch[1:3], args.watch[3:]
        asyncio.run(watch(token, bases, run_ids))
        return
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this measures Celery workers.")
    setup_django()
    with model_server(MODEL_DELAY_S, REPLY) as (server, base_url):
        team = make_team(base_url, args.steps)
        forget_earlier_runs(team)
        one = measure(team, 1, args, server.pid)
        forget_earlier_runs(team)
        two = measure(team, 2, args, server.pid)
    scale = two["runs_per_s"] / one["runs_per_s"]
    watchers = two["watchers"]
    print(f"load: {int(2.5 * args.concurrency)} runs kept in flight, {args.steps} model calls "
          f"of {MODEL_DELAY_S:g} s each; each worker takes {args.concurrency} at once")  # fmt: skip
    for n, f in ((1, one), (2, two)):
        print(f"{n} worker(s): {f['runs_per_s']:.2f} runs/s (ideal {f['ideal_runs_per_s']:.1f}), "
              f"{f['cpu_ms_per_run']:.1f} ms worker CPU per run, load average up to "
              f"{f['load_average']:.1f}, steal {f['steal_pct']:.1f} %; median run queued "
              f"{f['queued_s']:.2f} s, ran {f['ran_s']:.2f} s; cores used: workers "
              f"{f['workers_core_share']:.2f}, model server {f['model_server_core_share']:.2f}, "
              f"this driver {f['driver_core_share']:.2f}")  # fmt: skip
    print(f"scale: {scale:.2f} x (target >= 1.7)")
    print(f"watchers: {watchers['watchers']} on {watchers['daphne_processes']} daphne processes "
          f"({args.watched} runs, each watched on both; {watchers['events_per_run']} events "
          f"per run): {'every event once, in order' if watchers['ok'] else watchers['wrong']}")  # fmt: skip
    print(json.dumps({
        "workers_1_runs_per_s": round(one["runs_per_s"], 2),
        "workers_2_runs_per_s": round(two["runs_per_s"], 2),
        "scale": round(scale, 2),
        "cross_process_watchers_ok": watchers["ok"],
        "concurrency_per_worker": args.concurrency,
        "load_average": round(max(one["load_average"], two["load_average"]), 1),
        "steal_pct": round(max(one["steal_pct"], two["steal_pct"]), 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
