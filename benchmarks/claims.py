"""CPU an executor spends to claim a run and to record how it ended, by round size.

A worker claims the runs that arrive together in one round (``runs.shell.claims.claim``) and
records the runs that end together in one round (``runs.shell.finishes.finish``); while runs
arrive one by one (a steady stream) most rounds hold one run. For rounds of 1, 5 and 20
fresh runs of a three-agent team, this measures the process CPU time (``time.process_time``:
this process only, not the database server's) per run of each.

Reproduce (PostgreSQL running; without DATABASE_URL it measures SQLite):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench SECRET_KEY=bench \\
    AUDIT_SIGNING_KEY=YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \\
    .venv/bin/python manage.py migrate
    (same variables) .venv/bin/python benchmarks/claims.py [--runs 200]
The last line is one JSON object: ``claim_us_per_run_<size>`` and ``finish_us_per_run_<size>``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stack import setup_django
from concurrent_runs import make_team

SIZES = (1, 5, 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per round size")
    args = parser.parse_args()
    setup_django()
    from django.db import transaction

    from runs.actions import new_run
    from runs.chain import GENESIS_HASH
    from runs.engine.interfaces import RunOutcome
    from runs.shell.claims import claim, new_executor_id
    from runs.shell.finishes import Ended, finish
    from runs.shell.sink import Tail

    team = make_team("http://127.0.0.1:9/v1", 3)
    version = team.versions.get(number=team.version)

    def fresh(count: int) -> list[str]:
        with transaction.atomic():
            return [str(new_run(team.owner, version, {"task": "x"}).id) for _ in range(count)]

    def one_round(size: int) -> tuple[float, float]:
        ids, executor = fresh(size), new_executor_id()
        started = time.process_time()
        claimed = claim(ids, executor)
        claiming = time.process_time() - started
        outcome = RunOutcome(status="succeeded", output={"n": 1})
        ended = [Ended(c.run, executor, outcome, Tail([], [], {}), 0, GENESIS_HASH)
                 for c in claimed.values()]  # fmt: skip
        started = time.process_time()
        finish(ended)
        return claiming, time.process_time() - started

    one_round(2)  # warm up: imports, connections, the model client
    figures = {}
    for size in SIZES:
        rounds = max(1, args.runs // size)
        totals = [sum(pair) for pair in zip(*(one_round(size) for _ in range(rounds)), strict=True)]
        claim_us, finish_us = (total * 1e6 / (rounds * size) for total in totals)
        figures[f"claim_us_per_run_{size}"] = round(claim_us)
        figures[f"finish_us_per_run_{size}"] = round(finish_us)
        print(f"rounds of {size:2}: claim {claim_us:6.0f} us per run, finish {finish_us:6.0f} us")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
