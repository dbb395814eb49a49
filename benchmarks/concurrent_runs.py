"""Concurrent runs on one Celery worker process, with a model that answers after 1 s.

N runs of a pipeline of S agents (one model call each, 1 s per call) are enqueued at once to
one worker process (-P threads, every run on the process's one event loop). If the worker
carried all of them at the same time with no overhead, they would all end after S seconds:
that is the ideal. ``throughput_ratio`` is the ideal time over the measured time (enqueue of
the first to the end of the last), so 1.0 is perfect and 0.9 is "within 90 % of ideal".
Every run is checked: succeeded, seq contiguous, chain verifies.

Reproduce (PostgreSQL and Redis running, database migrated with the same variables and
SECRET_KEY=bench: .venv/bin/python manage.py migrate):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench .venv/bin/python benchmarks/concurrent_runs.py [--runs 200] [--steps 3]
The last line is {"concurrent_runs", "throughput_ratio"}.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL_DELAY_S = 1.0


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    os.environ["BENCH_MODEL_KEY"] = "sk-benchmark"
    import django

    django.setup()


def start_model_server() -> str:
    """The scripted OpenAI-compatible server, answering every call after 1 s, on a thread."""
    from tests.support.openai_server import Reply, ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    server.on(lambda r: True, Reply.text("Done after a second.", delay_s=MODEL_DELAY_S))
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    return asyncio.run_coroutine_threadsafe(server.start(), loop).result()


def make_team(base_url: str, steps: int) -> Any:
    from django.contrib.auth.models import User

    from teams.models import ModelConfig
    from teams.services import create_team
    from teams.spec import parse

    user, _ = User.objects.get_or_create(username="concurrency-benchmark")
    ModelConfig.objects.filter(owner=user).delete()
    ModelConfig.objects.create(owner=user, name="slow", provider="openai", model="m",
                               base_url=base_url, api_key_env="BENCH_MODEL_KEY")  # fmt: skip
    agents = [f"step{n}" for n in range(steps)]
    spec = {
        "name": "Concurrency benchmark",
        "pattern": "pipeline",
        "entry": agents[0],
        "nodes": [{"kind": "agent", "id": a, "name": a, "model": "slow"} for a in agents],
        "edges": [{"id": f"e{n}", "source": a, "target": b, "kind": "next"}
                  for n, (a, b) in enumerate(itertools.pairwise(agents))],
    }  # fmt: skip
    team, _ = create_team(user, parse(spec))
    return team


def start_worker(concurrency: int) -> subprocess.Popen[bytes]:
    log = open("/tmp/concurrent_runs_worker.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "orchestration_site", "worker",
         "-P", "threads", "-c", str(concurrency), "--without-gossip", "--without-mingle",
         "-l", "WARNING", "-n", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING"}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    time.sleep(1)
    return worker


def enqueue_runs(team: Any, count: int) -> list[str]:
    from django.db import transaction

    from runs.api import new_run
    from runs.execution import enqueue

    version = team.versions.get(number=team.version)
    ids = []
    with transaction.atomic():
        for n in range(count):
            run = new_run(team.owner, version, {"task": f"run {n}"})
            enqueue(run)
            ids.append(str(run.id))
    return ids


def wait_all(ids: list[str], within_s: float) -> float:
    from runs.models import Run

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not Run.objects.filter(id__in=ids, status__in=Run.ACTIVE_STATUSES).exists():
            return time.perf_counter()
        time.sleep(0.05)
    raise SystemExit("runs did not finish in time")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check(ids: list[str]) -> None:
    from runs.audit import verify
    from runs.models import Run

    for run in Run.objects.filter(id__in=ids):
        if run.status != "succeeded" or not verify(run)["ok"]:
            raise SystemExit(f"run {run.id} {run.status}: {run.failure_reason} {verify(run)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=3, help="model calls per run, 1 s each")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this measures a Celery worker.")
    setup_django()
    team = make_team(start_model_server(), args.steps)
    worker = start_worker(args.runs + 10)
    try:
        wait_all(enqueue_runs(team, 1), 60)  # warm-up: the worker is up and connected
        cpu_before = cpu_seconds(worker.pid)
        started = time.perf_counter()
        ids = enqueue_runs(team, args.runs)
        elapsed = wait_all(ids, 60 + 10 * args.steps) - started
        cpu = cpu_seconds(worker.pid) - cpu_before
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    check(ids)
    ideal = args.steps * MODEL_DELAY_S
    ratio = ideal / elapsed
    print(
        f"{args.runs} runs x {args.steps} model calls of {MODEL_DELAY_S:g} s on one worker process"
    )
    print(f"all done in {elapsed:.2f} s; ideal {ideal:.2f} s (all runs in flight together)")
    print(f"throughput {args.runs / elapsed:.1f} runs/s vs ideal {args.runs / ideal:.1f} runs/s; "
          f"ratio {ratio:.2f} (target >= 0.90)")  # fmt: skip
    print(f"worker CPU: {cpu * 1000 / args.runs:.1f} ms per run, {cpu / elapsed:.0%} of a core "
          "while the runs were in flight")  # fmt: skip
    print(json.dumps({"concurrent_runs": args.runs, "throughput_ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
