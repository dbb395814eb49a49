"""An experiment of 500 items on a model that answers after 200 ms, 50 items in flight, on real
Celery worker processes (one per core by default, as a deployment runs them).

Every item is a normal run of a one-agent team (one model call each), started, executed,
recorded with its audit trail and scored (``contains``) as any experiment's item is. The model
is the local OpenAI-compatible test server in a child process, answering every call after
200 ms; it and the workers are started as benchmarks/_stack.py starts them for every Celery
benchmark. The items spread over the workers as any runs do.

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
    [--items 500] [--concurrency 50] [--delay 0.2] [--workers N] [--judge]
It prints its figures: where an item's time goes, step by step; the worker CPU per item (all
processes together) and the busiest process's CPU (one core's worth at most, by the GIL: the
floor under the elapsed time); the CPU of the whole stack per item by process (workers, model
server, driver, PostgreSQL, Redis; "other" is whatever else the machine ran), and what that
CPU alone needs of the machine's cores, before any waiting; with the load average and the
share of CPU the hypervisor stole, which move the ratio on a shared machine more than most
code changes do; and PostgreSQL's CPU for this database's connections alone (a shared server
serves other databases too). Last a line of JSON: {"items", "ideal_s", "elapsed_s", "ratio",
"workers", "cpu_ms_per_item", "stack_cpu_ms_per_item", "database_cpu_ms_per_item",
"load_average", "judge"}.

``--judge`` adds a judge scorer on the same slow model: one more call per item, made after its
run ended and outside the experiment's lock, so the next items need not wait for it. The
server answers it with text, not a verdict, so every judge scores 0: what is measured is the
judges' cost in time, against the same ideal (the runs' own calls).
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import time
from statistics import fmean
from typing import Any

from _stack import (
    cpu_by_group,
    cpu_seconds,
    database_backends,
    database_cpu,
    default_workers,
    machine_times,
    model_server,
    setup_django,
    stolen_share,
    worker_processes,
)
from concurrent_runs import enqueue_runs, forget_earlier_runs, make_team, wait_all

# How often the driver looks whether the experiment finished. The elapsed time is the
# experiment's own finished_at, so this only decides when the figures are read; a poll every
# 20 ms took the driver a millisecond of CPU per item, from the cores the stack runs on.
POLL_S = 0.25
REPLY = "Done: {user}"  # the case it was asked, for the scorer to find


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


def run_experiment(team: Any, dataset: Any, concurrency: int, judge: bool) -> tuple[int, float]:
    """Start the experiment (as the API does: advanced once its transaction commits); its id
    and when it committed."""
    from django.db import transaction

    from evaluations import actions, tasks
    from evaluations.scorers import SPECS

    version = team.versions.get(number=team.version)
    scorers: list[dict[str, Any]] = [{"kind": "contains"}]
    if judge:  # on the same slow model as the runs (make_team's "slow")
        scorers.append({"kind": "judge", "rubric": "Did it do the case?", "model": "slow"})
    specs = SPECS.validate_python(scorers)
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
           or i.run.status != "succeeded" or i.scores["contains"]["score"] != 1.0
           or len(i.scores) != len(experiment.scorers)]  # fmt: skip
    if len(done) != items or bad:
        raise SystemExit(f"{len(bad)} of {len(done)} items not done right, e.g. {bad[:1]}")


def phases(experiment: Any) -> dict[str, float]:
    """Where an item's time goes, mean ms by step, one item after another in a slot: from its
    run's creation to its start (dispatch and claim), to the model call (the engine setting
    up), the model call (the server's delay and the client), from the answer to the run's end
    (sealing and recording it), and from a run's end to the creation of the next (the
    experiment's step). With no waiting, all but the model call would be a few ms."""
    from runs.models import RunEvent

    runs = [i.run for i in experiment.items.select_related("run")]
    turns: dict[Any, float] = {}
    answers: dict[Any, float] = {}
    for run_id, kind, ts in (
        RunEvent.objects.filter(run__in=runs, type__in=["turn.started", "message"])
        .order_by("seq")
        .values_list("run_id", "type", "ts")
    ):
        if kind == "turn.started":
            turns.setdefault(run_id, ts.timestamp())
        elif run_id in turns:
            answers.setdefault(run_id, ts.timestamp())
    created = sorted(r.created_at.timestamp() for r in runs)
    nexts = [created[i] - r.finished_at.timestamp() for r in runs
             if (i := bisect.bisect_right(created, r.finished_at.timestamp())) < len(created)]  # fmt: skip
    return {
        "queued to started": fmean((r.started_at - r.created_at).total_seconds() for r in runs),
        "started to model call": fmean(turns[r.id] - r.started_at.timestamp() for r in runs),
        "model call": fmean(answers[r.id] - turns[r.id] for r in runs),
        "answer to run's end": fmean(r.finished_at.timestamp() - answers[r.id] for r in runs),
        "run's end to the next item's run": fmean(nexts) if nexts else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50, help="items in flight at once")
    parser.add_argument("--delay", type=float, default=0.2, help="seconds per model answer")
    parser.add_argument(
        "--judge", action="store_true",
        help="also score every item with a judge on the same model (its calls are extra: the "
        "ideal stays the runs' own)",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=default_workers(),
        help="Celery worker processes (default: one per core, as a deployment runs them)",
    )  # fmt: skip
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this measures Celery workers.")
    setup_django()
    from django.conf import settings

    ideal_s = args.items / args.concurrency * args.delay
    with (
        model_server(args.delay, REPLY) as (server, base_url),
        worker_processes(args.workers, args.concurrency + 20, "experiments") as workers,
    ):
        team = make_team(base_url, 1)
        forget_earlier_experiments(team)
        forget_earlier_runs(team)
        dataset = make_dataset(team, args.items)
        # Every worker is up and connected: enough runs that each takes some.
        wait_all(enqueue_runs(team, 2 * args.workers)[0], 120)
        groups = {"workers": {w.pid for w in workers}, "model server": {server.pid},
                  "driver": {os.getpid()}}  # fmt: skip
        cpu_before = [cpu_seconds(w.pid) for w in workers]
        by_group_before, backends_before = cpu_by_group(groups), database_backends()
        machine_before, load_before = machine_times(), os.getloadavg()
        experiment_id, committed = run_experiment(team, dataset, args.concurrency, args.judge)
        experiment = wait_finished(experiment_id, 600)
        elapsed_s = experiment.finished_at.timestamp() - committed
        cpu_s = [cpu_seconds(w.pid) - c for w, c in zip(workers, cpu_before, strict=True)]
        by_group = {k: v - by_group_before[k] for k, v in cpu_by_group(groups).items()}
        database_s = database_cpu(backends_before, database_backends())
        steal = stolen_share(machine_before, machine_times())
        load = os.getloadavg()
    check(experiment, args.items)
    steps = phases(experiment)
    ratio = elapsed_s / ideal_s
    cpu_ms = sum(cpu_s) * 1000 / args.items
    floor = max(cpu_s)  # the busiest process: one core at most, by the GIL
    processes = f"{args.workers} Celery worker process{'es' if args.workers > 1 else ''}"
    print(f"{args.items} items, {args.concurrency} in flight, one model call of {args.delay:g} s "
          f"each, on {processes}")  # fmt: skip
    print(f"elapsed {elapsed_s:.2f} s vs ideal {ideal_s:.2f} s "
          f"(items / concurrency * {args.delay:g} s): ratio {ratio:.3f} (target <= 1.1)")  # fmt: skip
    print(f"an item, step by step (mean ms; the model {args.delay * 1000:g} ms): " + ", ".join(
        f"{k} {v * 1000:.1f}" for k, v in steps.items()
    ))  # fmt: skip
    print(f"worker CPU: {cpu_ms:.1f} ms per item (starting, running and scoring it), "
          f"{sum(cpu_s):.2f} s for all, the busiest process {floor:.2f} s: it cannot finish "
          f"before that on its one core, ratio {floor / ideal_s:.2f}; "
          f"EXPERIMENT_POLL_S {settings.EXPERIMENT_POLL_S:g}")  # fmt: skip
    stack_s = sum(v for k, v in by_group.items() if k != "other")
    cores = os.cpu_count() or 1
    print("CPU of the whole stack per item: " + ", ".join(
        f"{k} {v * 1000 / args.items:.1f} ms" for k, v in by_group.items()
    ) + f"; {stack_s * 1000 / args.items:.1f} ms in all but other, {stack_s:.2f} s: on "
        f"{cores} cores it needs at least {stack_s / cores:.2f} s, ratio "
        f"{stack_s / cores / ideal_s:.2f}, before any waiting")  # fmt: skip
    print(f"PostgreSQL CPU of this database's connections: {database_s * 1000 / args.items:.2f} "
          "ms per item (postgres above: every database of the server)")  # fmt: skip
    print(f"machine: load average {load_before[0]:.2f} before, {load[0]:.2f} after "
          f"({os.cpu_count()} CPUs); {steal:.1%} of its CPU time stolen by the hypervisor")  # fmt: skip
    print(json.dumps({"items": args.items, "ideal_s": round(ideal_s, 3),
                      "elapsed_s": round(elapsed_s, 3), "ratio": round(ratio, 3),
                      "workers": args.workers, "cpu_ms_per_item": round(cpu_ms, 2),
                      "stack_cpu_ms_per_item": round(stack_s * 1000 / args.items, 2),
                      "database_cpu_ms_per_item": round(database_s * 1000 / args.items, 2),
                      "load_average": round(max(load_before[0], load[0]), 2),
                      "judge": args.judge}))  # fmt: skip


if __name__ == "__main__":
    main()
