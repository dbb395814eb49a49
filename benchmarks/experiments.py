"""An experiment of 500 items on a model that answers after 200 ms, 50 items in flight, on a
real Celery worker process.

Every item is a normal run of a one-agent team (one model call each), started, executed,
recorded with its audit trail and scored (``contains``) as any experiment's item is. The model
is the local OpenAI-compatible test server in a child process, answering every call after
200 ms, so the benchmark's own bookkeeping does not delay its answers.

The ideal: if running an item cost nothing but its model call, ``concurrency`` items would be in
flight at every moment and each would take 0.2 s, so the experiment would take
items / concurrency * 0.2 s (500 / 50 * 0.2 = 2 s). ``elapsed_s`` is from the commit that
created the experiment to the moment it was marked finished (its last item scored); ``ratio``
is elapsed over ideal (1.0 is perfect; the target is 1.1 or less). Every item is checked:
done, its run succeeded, its score is 1.

Reproduce (PostgreSQL and Redis running, database migrated with the same variables:
.venv/bin/python manage.py migrate):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench .venv/bin/python benchmarks/experiments.py \\
    [--items 500] [--concurrency 50] [--delay 0.2]
It prints its figures (with the load average and the share of CPU the hypervisor stole, which
move the ratio on a shared machine more than most code changes do), and last a line of JSON:
{"items", "ideal_s", "elapsed_s", "ratio"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from statistics import fmean
from typing import Any

from concurrent_runs import (
    _Discard,
    cpu_seconds,
    enqueue_runs,
    forget_earlier_runs,
    machine_times,
    make_team,
    setup_django,
    start_worker,
    stolen_share,
    wait_all,
)

POLL_S = 0.02


async def serve(delay_s: float) -> None:
    """The child process: the scripted server answering every call after ``delay_s``, with
    the case it was asked (so the scorer has something to find); its URL on stdout, until
    stdin closes."""
    from tests.support.openai_server import Reply, ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    server.on(lambda r: True, lambda r: Reply.text(f"Done: {r.user}", delay_s=delay_s))
    server.log = _Discard()  # it would hold every request of the benchmark
    print(await server.start(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()


def start_model_server(delay_s: float) -> tuple[subprocess.Popen[bytes], str]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--delay", str(delay_s)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None
    return server, server.stdout.readline().decode().strip()


def make_dataset(team: Any, items: int) -> Any:
    from evaluations.actions import ItemIn, do_add_items, do_create_dataset
    from evaluations.models import Dataset

    Dataset.objects.filter(owner=team.owner, name="Experiment benchmark").delete()
    dataset = do_create_dataset(team.owner, team.workspace, "Experiment benchmark", "")
    do_add_items(dataset, [ItemIn(input={"task": f"case {n}"}, expected=f"case {n}")
                           for n in range(items)])  # fmt: skip
    return dataset


def forget_earlier_experiments(team: Any) -> None:
    from evaluations.models import Experiment

    Experiment.objects.filter(owner=team.owner).delete()  # a new team each time: by owner


def run_experiment(team: Any, dataset: Any, concurrency: int) -> tuple[int, float]:
    """Start the experiment (as the API does: advanced once its transaction commits); its id
    and when it committed."""
    from django.db import transaction

    from evaluations import actions, tasks
    from evaluations.scorers import SPECS

    version = team.versions.get(number=team.version)
    specs = SPECS.validate_python([{"kind": "contains"}])
    with transaction.atomic():
        experiment = actions.do_start_experiment(team.owner, version, dataset, specs, concurrency)
        transaction.on_commit(lambda: tasks.advance_soon(experiment.pk))
    return experiment.pk, time.time()


def wait_finished(experiment_id: int, within_s: float) -> Any:
    from evaluations.models import Experiment

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        experiment = Experiment.objects.get(pk=experiment_id)
        if experiment.status != Experiment.Status.RUNNING:
            return experiment
        time.sleep(POLL_S)
    raise SystemExit(f"experiment {experiment_id} did not finish in {within_s:g} s")


def check(experiment: Any, items: int) -> None:
    from evaluations.models import ExperimentItem

    if experiment.status != "finished":
        raise SystemExit(f"experiment {experiment.pk} {experiment.status}")
    done = list(experiment.items.select_related("run"))
    bad = [i for i in done if i.status != ExperimentItem.Status.DONE or i.run is None
           or i.run.status != "succeeded" or i.scores["contains"]["score"] != 1.0]  # fmt: skip
    if len(done) != items or bad:
        raise SystemExit(f"{len(bad)} of {len(done)} items not done right, e.g. {bad[:1]}")


def phases(experiment: Any) -> tuple[float, float]:
    """The mean seconds an item's run waited from its creation to its start (dispatch and
    claim), and ran from its start to its end (the model's 0.2 s and the engine's work)."""
    runs = [i.run for i in experiment.items.select_related("run")]
    waited = fmean((r.started_at - r.created_at).total_seconds() for r in runs)
    ran = fmean((r.finished_at - r.started_at).total_seconds() for r in runs)
    return waited, ran


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50, help="items in flight at once")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per model answer")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.delay))
        return
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this measures a Celery worker.")
    setup_django()
    from django.conf import settings

    server, base_url = start_model_server(args.delay)
    team = make_team(base_url, 1)
    forget_earlier_experiments(team)
    forget_earlier_runs(team)
    dataset = make_dataset(team, args.items)
    worker = start_worker(args.concurrency + 20, "experiments")
    ideal_s = args.items / args.concurrency * args.delay
    try:
        wait_all(enqueue_runs(team, 1)[0], 60)  # the worker is up and connected
        cpu_before, machine_before = cpu_seconds(worker.pid), machine_times()
        load_before = os.getloadavg()
        experiment_id, committed = run_experiment(team, dataset, args.concurrency)
        experiment = wait_finished(experiment_id, 600)
        elapsed_s = experiment.finished_at.timestamp() - committed
        cpu_ms = (cpu_seconds(worker.pid) - cpu_before) * 1000 / args.items
        steal = stolen_share(machine_before, machine_times())
        load = os.getloadavg()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        assert server.stdin is not None
        server.stdin.close()
        server.wait(timeout=10)
    check(experiment, args.items)
    waited, ran = phases(experiment)
    ratio = elapsed_s / ideal_s
    print(f"{args.items} items, {args.concurrency} in flight, one model call of {args.delay:g} s "
          "each, on one Celery worker process")  # fmt: skip
    print(f"elapsed {elapsed_s:.2f} s vs ideal {ideal_s:.2f} s "
          f"(items / concurrency * {args.delay:g} s): ratio {ratio:.3f} (target <= 1.1)")  # fmt: skip
    print(f"per item: {waited:.3f} s from its run's creation to its start, {ran:.3f} s from "
          f"its start to its end (the model {args.delay:g} s)")  # fmt: skip
    floor = cpu_ms * args.items / 1000
    print(f"worker CPU: {cpu_ms:.1f} ms per item (starting, running and scoring it), "
          f"{floor:.2f} s for all: one worker process (one core at most) cannot finish before "
          f"that, ratio {floor / ideal_s:.2f}; EXPERIMENT_POLL_S {settings.EXPERIMENT_POLL_S:g}")  # fmt: skip
    print(f"machine: load average {load_before[0]:.2f} before, {load[0]:.2f} after "
          f"({os.cpu_count()} CPUs); {steal:.1%} of its CPU time stolen by the hypervisor")  # fmt: skip
    print(json.dumps({"items": args.items, "ideal_s": round(ideal_s, 3),
                      "elapsed_s": round(elapsed_s, 3), "ratio": round(ratio, 3)}))  # fmt: skip


if __name__ == "__main__":
    main()
