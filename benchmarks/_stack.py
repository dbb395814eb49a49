"""The stack the Celery benchmarks measure, started one way for all of them: Django set up as a
benchmark needs it, the scripted model server in a child process, Celery worker processes, and
the machine's figures read around a measurement (CPU per process, the hypervisor's steal).

concurrent_runs.py, experiments.py, scale_out.py and soak.py start these; each measures what
it measures on top. The model server runs in a child process, so the driver's own bookkeeping
does not delay its answers. Run as a script only as that child (``--serve``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(**credential: Any) -> None:
    """``credential``: more fields of the operator credential the benchmark's model server is
    reached with (e.g. ``rpm``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    # Signs the runs' audit heads (a fixed key: benchmarks sign nothing that matters).
    os.environ.setdefault("AUDIT_SIGNING_KEY", "YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk=")
    os.environ["BENCH_MODEL_KEY"] = "sk-benchmark"
    # The operator credential the benchmark's local model server is reached with; workers
    # started from here inherit it. A throwaway encryption key: no secrets are stored.
    bench = {"key_env": "BENCH_MODEL_KEY", "hosts": ["127.0.0.1"], **credential}
    os.environ["MODEL_CREDENTIALS"] = json.dumps({"bench": bench})
    os.environ.setdefault("SECRETS_ENCRYPTION_KEYS", "joA2TSmwnkEmfSpJL-fRdrM_jKR7I0LFCM-Xg-T0Ftw=")
    # One person starts every run here, far past a person's quotas: the operator lifts them.
    for quota in ("QUOTA_RUNS_IN_FLIGHT", "QUOTA_TOKENS_PER_DAY", "QUOTA_USD_PER_DAY"):
        os.environ.setdefault(quota, "0")
    os.environ.setdefault("QUOTA_RUNS", "")
    import django

    django.setup()


# --- the model server (a child process) --------------------------------------------------


class _Discard(list):  # type: ignore[type-arg]
    def append(self, item: Any) -> None:
        pass


async def serve(delay_s: float, reply: str) -> None:
    """The child process: the scripted server answering every call after ``delay_s`` with
    ``reply`` (``{user}`` in it: the message it was asked); its URL on stdout, until stdin
    closes."""
    from tests.support.openai_server import Reply, ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    if "{user}" in reply:
        server.on(lambda r: True, lambda r: Reply.text(reply.format(user=r.user), delay_s=delay_s))
    else:
        server.on(lambda r: True, Reply.text(reply, delay_s=delay_s))
    server.log = _Discard()  # it would hold every request of the benchmark
    print(await server.start(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()


def start_model_server(delay_s: float, reply: str) -> tuple[subprocess.Popen[bytes], str]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--delay", str(delay_s), "--reply", reply],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None
    return server, server.stdout.readline().decode().strip()


def stop_model_server(server: subprocess.Popen[bytes]) -> None:
    assert server.stdin is not None
    server.stdin.close()
    server.wait(timeout=10)


@contextmanager
def model_server(delay_s: float, reply: str) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The model server for the length of the block: its process and base URL."""
    server, base_url = start_model_server(delay_s, reply)
    try:
        yield server, base_url
    finally:
        stop_model_server(server)


# --- the workers -------------------------------------------------------------------------


def default_workers() -> int:
    """The worker processes a deployment on this machine runs: one per core
    (docs/operating.md), since a process carries its runs on one event loop."""
    return os.cpu_count() or 1


def start_worker(concurrency: int, name: str = "bench") -> subprocess.Popen[bytes]:
    """A Celery worker process (-P threads, ``concurrency`` slots), its log in
    /tmp/concurrent_runs_<name>.log."""
    log = open(f"/tmp/concurrent_runs_{name}.log", "wb")  # noqa: SIM115
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "orchestration_site", "worker",
         "-P", "threads", "-c", str(concurrency), "--without-gossip", "--without-mingle",
         "-l", "WARNING", "-n", f"{name}-{os.getpid()}@%h"],
        cwd=ROOT, env={**os.environ, "LOG_LEVEL": "WARNING"}, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    time.sleep(1)
    return worker


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


@contextmanager
def worker_processes(
    count: int, concurrency: int, name: str = "bench"
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` worker processes of ``concurrency`` slots each, for the length of the block."""
    workers = [start_worker(concurrency, f"{name}{n}" if count > 1 else name) for n in range(count)]
    try:
        yield workers
    finally:
        stop_workers(workers)


# --- the machine -------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_by_group(groups: dict[str, set[int]]) -> dict[str, float]:
    """CPU seconds used so far by every process on the machine, summed by group: a process
    in one of ``groups`` (name -> pids, children included) counts there; else PostgreSQL's
    and Redis's server processes count as ``postgres`` and ``redis``, anything else as
    ``other`` (on a quiet machine, nearly nothing). Processes that ended meanwhile are not
    seen: read it around a measurement whose processes live through it (Linux)."""
    totals = dict.fromkeys([*groups, "postgres", "redis", "other"], 0.0)
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            head, tail = (entry / "stat").read_text().rsplit(")", 1)
        except OSError:
            continue  # ended while we looked
        pid, fields = int(entry.name), tail.split()
        names[pid] = head.split("(", 1)[1]
        parents[pid] = int(fields[1])
        used[pid] = (int(fields[11]) + int(fields[12])) / tick
    for pid, seconds in used.items():
        totals[_group_of(pid, groups, parents, names)] += seconds
    return totals


def _group_of(
    pid: int, groups: dict[str, set[int]], parents: dict[int, int], names: dict[int, str]
) -> str:
    seen, at = set(), pid
    while at > 1 and at not in seen:
        for name, pids in groups.items():
            if at in pids:
                return name
        seen.add(at)
        at = parents.get(at, 0)
    name = names.get(pid, "")
    if name.startswith("postgres"):
        return "postgres"
    if name.startswith("redis"):
        return "redis"
    return "other"


def database_backends() -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL server process connected to this
    benchmark's database, by pid (PostgreSQL on this machine, Linux). Unlike ``cpu_by_group``'s
    ``postgres``, it leaves out the backends of other databases of a shared server. Nothing
    with another database."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        pids = [pid for (pid,) in cursor.fetchall()]
    used = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # ended while we looked
            used[pid] = cpu_seconds(pid)
    return used


def database_cpu(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds this database's backends used between two ``database_backends``
    readings: those connected at the second (a backend that ended between is not seen)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_times() -> list[int]:
    """The machine's CPU time so far by state (user, nice, system, idle, iowait, irq,
    softirq, steal), from /proc/stat (Linux)."""
    return [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:9]]


def stolen_share(before: list[int], after: list[int]) -> float:
    """The share of the machine's CPU time between the two readings that a virtual
    machine's hypervisor gave to other guests (steal)."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    return spent[7] / max(1, sum(spent))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The benchmarks' model server (a child).")
    parser.add_argument("--serve", action="store_true", required=True)
    parser.add_argument("--delay", type=float, required=True)
    parser.add_argument("--reply", required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.delay, args.reply))
