"""PostgreSQL restarted (a fast shutdown: every connection cut) while runs are in flight. The
shared cluster serves other suites, so this test runs its own: a private PostgreSQL in a
temporary folder on a free port, holding a copy of the test database, which the worker, and
this test, use instead. Every run finishes with no completed model or tool call made again, no
event lost or doubled, and every chain verifying."""

import asyncio
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from tests.conftest import require
from tests.faults.workload import (
    WORKER_ENV,
    answer_the_editors,
    assert_every_run_finished_whole,
    script,
    start_workload,
    until_in_flight,
)
from tests.runs.live import PrivateRedis, free_port, start_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
# initdb refuses to run as root: the server then runs as the postgres user.
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@dataclass
class PrivatePostgres:
    port: int = field(default_factory=free_port)
    directory: str = field(default_factory=lambda: tempfile.mkdtemp(prefix="faults-pg-"))

    def tool(self, name: str, *args: str) -> None:
        command = [*AS_POSTGRES, f"{BINARIES[-1]}/{name}", *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        if AS_POSTGRES:
            shutil.chown(self.directory, "postgres")
        data = f"{self.directory}/data"
        self.tool("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.tool("pg_ctl", "-D", data, "-o", options, "-l", f"{self.directory}/log", "-w", "start")

    def restart(self) -> None:
        data, log = f"{self.directory}/data", f"{self.directory}/log"
        self.tool("pg_ctl", "-D", data, "-l", log, "-m", "fast", "-w", "restart")

    def remove(self) -> None:
        subprocess.run(
            [*AS_POSTGRES, f"{BINARIES[-1]}/pg_ctl", "-D", f"{self.directory}/data", "-m",
             "immediate", "stop"], capture_output=True, timeout=60,
        )  # fmt: skip
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    require(bool(BINARIES), "needs PostgreSQL's server programs in /usr/lib/postgresql/*/bin")
    server = PrivatePostgres()
    server.start()
    yield server
    server.remove()


def move_the_test_database_to(server: PrivatePostgres) -> dict[str, Any]:
    """Copy the test database into ``server`` and point this process at the copy; returns the
    settings to put back."""
    settings = connections.settings["default"]
    saved = dict(settings)
    source = {**os.environ, "PGPASSWORD": settings.get("PASSWORD") or ""}
    dump = subprocess.run(
        ["pg_dump", "-Fc", "-h", settings["HOST"], "-p", str(settings["PORT"] or 5432),
         "-U", settings["USER"], settings["NAME"]],
        check=True, capture_output=True, env=source, timeout=120,
    ).stdout  # fmt: skip
    target = f"postgres://postgres@127.0.0.1:{server.port}"
    create = ["psql", "-q", f"{target}/postgres", "-c", "CREATE DATABASE faults"]
    subprocess.run(create, check=True, capture_output=True, timeout=60)
    subprocess.run(
        ["pg_restore", "--no-owner", "-d", f"{target}/faults"],
        input=dump,
        check=True,
        capture_output=True,
        timeout=120,
    )
    connections.close_all()
    # Every thread's connection reads this one dictionary.
    settings.update(HOST="127.0.0.1", PORT=str(server.port), NAME="faults", USER="postgres")
    settings["PASSWORD"] = ""
    return saved


def put_back(saved: dict[str, Any]) -> None:
    connections.close_all()
    connections.settings["default"].update(saved)


async def test_runs_ride_out_a_postgres_restart(
    openai_server: Any, stack: PrivateRedis, postgres: PrivatePostgres
) -> None:
    saved = await sync_to_async(move_the_test_database_to)(postgres)
    connections.close_all()
    try:
        script(openai_server, delay_s=1.0)
        worker = await asyncio.to_thread(start_worker, stack, "first", 8, **WORKER_ENV)
        try:
            workload = await sync_to_async(start_workload)(openai_server)
            await until_in_flight(openai_server, workload)
            await asyncio.to_thread(postgres.restart)

            await sync_to_async(answer_the_editors)(workload)
            await sync_to_async(assert_every_run_finished_whole)(openai_server, workload)
        finally:
            worker.stop()
    finally:
        await sync_to_async(put_back)(saved)
        connections.close_all()
