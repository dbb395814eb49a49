"""Concurrent runs on one Celery worker process, with a model that answers after 1 s.

Every run is a pipeline of S agents (one model call each, answered after 1 s), executed by
one worker process (-P threads, every run on the process's one event loop). Two figures:

- sustained (``throughput_ratio``): N runs are kept in flight, a new run enqueued as soon as
  one ends, for a warm-up and then a measured window. The first N are enqueued evenly over
  S seconds, so that, as in a steady stream, runs are at every phase of their work at once. If the worker carried them with no
  overhead, each run would take S seconds, so N / S runs would end per second: that is the
  ideal. The ratio is the runs that ended per second in the window over that ideal: 1.0 is
  perfect, 0.9 is "throughput within 90 % of ideal with N concurrent runs".
- burst (``burst_ratio``): N runs enqueued at once into an idle worker; the ideal is that
  all end after S seconds, the ratio is S over the time from their commit to the end of the
  last one. It adds what a sudden crowd costs: every run starts in the same second, so the
  worker's start-up work for all N is queued at once.

Every run is checked: succeeded, seq contiguous, chain verifies against its signed head. The
model server and the worker are started as benchmarks/_stack.py starts them for every Celery
benchmark.

Reproduce (PostgreSQL and Redis running, database migrated with the same variables:
.venv/bin/python manage.py migrate):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench SECRET_KEY=bench AUDIT_SIGNING_KEY=YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \\
    .venv/bin/python benchmarks/concurrent_runs.py \\
    [--runs 200] [--steps 3] [--window 15]
The last line is {"concurrent_runs", "throughput_ratio", "burst_ratio", "cpu_ms_per_run",
"database_cpu_ms_per_run", "steal_pct", "load_average"}: database_cpu_ms_per_run is
PostgreSQL's CPU per run for this database's connections while sustained; steal_pct is the
share of the machine's CPU time its hypervisor gave to other guests while sustained, printed
with the load average because on a shared virtual machine they move the ratios more than
most changes to the code do.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from typing import Any

import _stack as stack

MODEL_DELAY_S = 1.0
REPLY = "Done after a second."
POLL_S = 0.02


def make_team(base_url: str, steps: int) -> Any:
    from django.contrib.auth.models import User

    from teams.models import ModelConfig
    from teams.services import create_team
    from teams.spec import parse
    from workspaces.models import personal_workspace

    user, _ = User.objects.get_or_create(username="concurrency-benchmark")
    home = personal_workspace(user)
    ModelConfig.objects.filter(owner=user).delete()
    ModelConfig.objects.create(owner=user, workspace=home, name="slow", provider="openai",
                               model="m", base_url=base_url, credential="bench")  # fmt: skip
    agents = [f"step{n}" for n in range(steps)]
    spec = {
        "name": "Concurrency benchmark",
        "pattern": "pipeline",
        "entry": agents[0],
        "nodes": [{"kind": "agent", "id": a, "name": a, "model": "slow"} for a in agents],
        "edges": [{"id": f"e{n}", "source": a, "target": b, "kind": "next"}
                  for n, (a, b) in enumerate(itertools.pairwise(agents))],
    }  # fmt: skip
    team, _ = create_team(user, parse(spec), workspace=home)
    return team


def forget_earlier_runs(team: Any) -> None:
    """Delete the runs earlier measurements left and reclaim their space: every run rewrites
    its row a few times, and on a server without autovacuum (this machine's is off) the dead
    rows of earlier runs made each measurement slower than the one before."""
    from django.db import connection

    from runs.models import Run

    Run.objects.filter(owner=team.owner).delete()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE runs_run, runs_runevent")


def enqueue_runs(team: Any, count: int) -> tuple[list[str], float]:
    """``count`` new runs, enqueued once their transaction commits: their ids, and when the
    commit was (the first enqueue)."""
    from django.db import transaction

    from runs.actions import new_run
    from runs.execution import enqueue

    version = team.versions.get(number=team.version)
    ids = []
    committed = 0.0

    def mark() -> None:
        nonlocal committed
        committed = time.time()

    with transaction.atomic():
        transaction.on_commit(mark)  # first: the commit hooks run in the order they were added
        for n in range(count):
            run = new_run(team.owner, version, {"task": f"run {n}"})
            enqueue(run)
            ids.append(str(run.id))
    return ids, committed


def ended(ids: set[str]) -> list[tuple[str, float]]:
    """The runs among ``ids`` that have ended: (id, when)."""
    from runs.models import Run

    rows = Run.objects.filter(id__in=ids).exclude(status__in=Run.ACTIVE_STATUSES)
    return [(str(i), at.timestamp()) for i, at in rows.values_list("id", "finished_at")]


def wait_all(ids: list[str], within_s: float) -> float:
    """When the last of ``ids`` ended."""
    pending, last = set(ids), 0.0
    deadline = time.monotonic() + within_s
    while pending and time.monotonic() < deadline:
        for run_id, at in ended(pending):
            pending.discard(run_id)
            last = max(last, at)
        time.sleep(POLL_S)
    if pending:
        raise SystemExit(f"{len(pending)} runs did not finish in time")
    return last


def sustained(
    team: Any, runs: int, ramp_s: float, warm_up_s: float, window_s: float
) -> tuple[int, list[str]]:
    """Keep ``runs`` in flight, a new run enqueued for each that ends; the number that ended
    within the window after the warm-up, and every run started. The first ``runs`` are
    enqueued evenly over ``ramp_s`` (one run's ideal length), so the runs are spread over
    the phases of a run, as in a steady stream, not started in step as in a burst."""
    in_flight: set[str] = set()
    every: list[str] = []
    started = time.time()
    window = (started + warm_up_s, started + warm_up_s + window_s)
    counted = 0
    while time.time() < window[1]:
        done = ended(in_flight)
        for run_id, at in done:
            in_flight.discard(run_id)
            counted += window[0] <= at < window[1]
        ramped = min(runs, int(runs * (time.time() - started) / ramp_s) + 1)
        missing = ramped - len(in_flight)
        if missing > 0:
            new = enqueue_runs(team, missing)[0]
            in_flight.update(new)
            every += new
        time.sleep(POLL_S)
    wait_all(list(in_flight), 60)
    return counted, every


def check(ids: list[str]) -> None:
    from runs.audit import verify
    from runs.models import Run

    for run in Run.objects.filter(id__in=ids):
        result = verify(run)  # the chain holds, and the signed head covers every event
        if (
            run.status != "succeeded"
            or not result["ok"]
            or result["signed_seq"] != result["events"]
        ):
            raise SystemExit(f"run {run.id} {run.status}: {run.failure_reason} {result}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs in flight at once")
    parser.add_argument("--steps", type=int, default=3, help="model calls per run, 1 s each")
    parser.add_argument("--warm-up", type=float, default=8.0, help="seconds before the window")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this measures a Celery worker.")
    stack.setup_django()
    ideal_s = args.steps * MODEL_DELAY_S
    with (
        stack.model_server(MODEL_DELAY_S, REPLY) as (_, base_url),
        stack.worker_processes(1, args.runs + 10) as (worker,),
    ):
        team = make_team(base_url, args.steps)
        forget_earlier_runs(team)
        wait_all(enqueue_runs(team, 1)[0], 60)  # the worker is up and connected
        # Sustained: the worker's CPU is read over the whole of it, per run it ended.
        cpu_before, machine_before = stack.cpu_seconds(worker.pid), stack.machine_times()
        load_before, backends_before = os.getloadavg()[0], stack.database_backends()
        counted, kept = sustained(team, args.runs, ideal_s, args.warm_up, args.window)
        cpu_ms = (stack.cpu_seconds(worker.pid) - cpu_before) * 1000 / len(kept)
        database_ms = stack.database_cpu(backends_before, stack.database_backends())
        database_ms *= 1000 / len(kept)
        steal = stack.stolen_share(machine_before, stack.machine_times())
        load = max(load_before, os.getloadavg()[0])
        time.sleep(2)  # idle again
        burst, committed = enqueue_runs(team, args.runs)
        burst_s = wait_all(burst, 60 + 10 * args.steps) - committed
    check(kept + burst)
    rate, ideal = counted / args.window, args.runs / ideal_s
    ratio, burst_ratio = rate / ideal, ideal_s / burst_s
    print(f"{args.runs} runs in flight, {args.steps} model calls of {MODEL_DELAY_S:g} s each, "
          "on one worker process")  # fmt: skip
    print(f"sustained: {counted} runs ended in {args.window:g} s after {args.warm_up:g} s of "
          f"warm-up: {rate:.1f} runs/s vs ideal {ideal:.1f} runs/s; ratio {ratio:.3f} "
          "(target >= 0.90)")  # fmt: skip
    print(f"burst: {args.runs} runs enqueued at once all ended after {burst_s:.2f} s "
          f"(ideal {ideal_s:g} s); ratio {burst_ratio:.3f}")  # fmt: skip
    print(f"worker CPU: {cpu_ms:.1f} ms per run while sustained; PostgreSQL CPU of this "
          f"database's connections {database_ms:.2f} ms per run")  # fmt: skip
    print(f"machine: load average up to {load:.2f} ({os.cpu_count()} CPUs); {steal:.1%} of its "
          "CPU time stolen by the hypervisor while sustained (compare figures taken at a "
          "similar load and share)")  # fmt: skip
    print(json.dumps({"concurrent_runs": args.runs, "throughput_ratio": round(ratio, 3),
                      "burst_ratio": round(burst_ratio, 3), "cpu_ms_per_run": round(cpu_ms, 1),
                      "database_cpu_ms_per_run": round(database_ms, 2),
                      "steal_pct": round(steal * 100, 1),
                      "load_average": round(load, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
