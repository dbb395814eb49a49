"""PostgreSQL's CPU per run for the statements of a run's life, by how parameters are bound.

For each binding mode, alternating in one process (``--repeats`` rounds of every mode), a
measurement is ``--runs`` runs of a one-agent team, each created (``new_run``), claimed
(``claim``), given two batches of five events (``store_many``) and ended (``finish``, with a
last event), ``--batch`` runs at a time: 1 is a worker with one run at a time; a worker
carrying many runs claims, stores and ends the runs of a round together, one statement for
all of them. Measured: the CPU the server's backend process of this connection spent (from
/proc: PostgreSQL on this machine), and this process's own CPU, per run. The modes:

- ``client``: psycopg's ``ClientCursor`` (Django's default): values are written into the
  statement's text, so the server parses and plans every statement anew;
- ``server``: server-side binding (``server_side_binding``) without preparation (Django's
  default ``prepare_threshold`` None): one text per statement shape, still parsed each time;
- ``prepared``: server-side binding and ``prepare_threshold`` 5 (psycopg's own default): a
  statement executed five times on a connection is prepared and then only executed.

Reproduce (PostgreSQL running on this machine, database migrated with the same variables):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \\
    benchmarks/statement_cpu.py [--runs 200] [--repeats 3] [--batch 1]
The last line is one JSON object: per mode, the server's and this process's CPU per run in
microseconds, each the list of the rounds' figures in order.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from _stack import cpu_seconds, setup_django
from concurrent_runs import make_team

MODES: dict[str, dict[str, Any]] = {
    "client": {},
    "server": {"server_side_binding": True},
    "prepared": {"server_side_binding": True, "prepare_threshold": 5},
}


def backend_cpu_s() -> float:
    """CPU seconds this connection's server process has used so far (Linux, same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return cpu_seconds(pid)


def use_mode(options: dict[str, Any]) -> None:
    """Reconnect with ``options`` as the database's OPTIONS."""
    from django.db import connection

    connection.close()
    connection.settings_dict["OPTIONS"] = dict(options)
    connection.ensure_connection()


def one_round(team: Any, version: Any, size: int) -> None:
    """``size`` runs through their life together, as a worker does the runs that arrive and
    end in the same round: one claim, one ``store_many`` per batch, one ``finish``."""
    from django.db import transaction

    from runs.actions import new_run
    from runs.chain import ChainHead, chain
    from runs.engine.events import MESSAGE, Event
    from runs.engine.interfaces import RunOutcome
    from runs.shell.claims import claim, new_executor_id
    from runs.shell.finishes import Ended, finish
    from runs.shell.sink import Tail
    from runs.shell.store import store_many

    def events(start: int, count: int) -> list[Event]:
        return [Event(MESSAGE, f"a/message/{n}", time.time(), "a", f"s{n}", "s0",
                      {"role": "assistant", "content": "Done: case 1"})
                for n in range(start, start + count)]  # fmt: skip

    with transaction.atomic():
        ids = [str(new_run(team.owner, version, {"task": "case 1"}).id) for _ in range(size)]
    executor = new_executor_id()
    claimed = list(claim(ids, executor).values())
    heads = [ChainHead() for _ in claimed]
    for start in (0, 5):
        batches = [(c.run.id, chain(c.run.id, h, events(start, 5)), None)
                   for c, h in zip(claimed, heads, strict=True)]  # fmt: skip
        assert store_many(batches) == [None] * size
    outcome = RunOutcome(status="succeeded", output={"answer": "Done: case 1"})
    ended = []
    for c, head in zip(claimed, heads, strict=True):
        last = chain(c.run.id, head, events(10, 1))
        ended.append(Ended(c.run, executor, outcome, Tail(last, [], {}), head.seq, head.hash))
    finish(ended)


def measure(team: Any, version: Any, runs: int, size: int) -> tuple[float, float]:
    """Server and process CPU microseconds per run over ``runs`` runs, ``size`` a round."""
    server, process = backend_cpu_s(), time.process_time()
    for _ in range(max(1, runs // size)):
        one_round(team, version, size)
    done = max(1, runs // size) * size
    return (
        (backend_cpu_s() - server) * 1e6 / done,
        (time.process_time() - process) * 1e6 / done,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200, help="runs per round")
    parser.add_argument("--repeats", type=int, default=3, help="rounds of every mode")
    parser.add_argument("--batch", type=int, default=1, help="runs that go through together")
    args = parser.parse_args()
    setup_django()
    from concurrent_runs import forget_earlier_runs

    team = make_team("http://127.0.0.1:9/v1", 1)
    version = team.versions.get(number=team.version)
    forget_earlier_runs(team)
    figures: dict[str, dict[str, list[float]]] = {m: {"server_us": [], "process_us": []}
                                                  for m in MODES}  # fmt: skip
    for repeat in range(args.repeats):
        # Alternate, and change the order every round, so drift in the machine's load does
        # not favour one mode.
        order = list(MODES) if repeat % 2 == 0 else list(reversed(MODES))
        for mode in order:
            use_mode(MODES[mode])
            measure(team, version, 10 * args.batch, args.batch)  # warm up: the first executions
            server_us, process_us = measure(team, version, args.runs, args.batch)
            figures[mode]["server_us"].append(round(server_us))
            figures[mode]["process_us"].append(round(process_us))
            print(f"round {repeat + 1} {mode:>8}: server {server_us:6.0f} us per run, "
                  f"this process {process_us:6.0f} us")  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
