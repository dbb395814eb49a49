"""``make run``'s first step, ``manage.py migrate``, works on the embedded default's SQLite
file, not only on PostgreSQL where the suite runs: a PostgreSQL-only statement in a migration
(``CONCURRENTLY``, an operator class) would stop ``make run`` on a fresh machine. The index
migrations go back and forward there too."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("DATABASE_URL", "REDIS_URL", "RUN_EXECUTOR", "CELERY_BROKER_URL")


def migrate(database: Path, *target: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVICES}
    env |= {"DEBUG": "1", "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0", *target],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def indexes(database: Path, table: str) -> set[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                          (table,))  # fmt: skip
        return {name for (name,) in rows}


def test_a_fresh_sqlite_database_migrates_and_the_index_migrations_go_back(tmp_path: Path) -> None:
    database = tmp_path / "embedded.sqlite3"
    migrate(database)
    assert {"run_unfinished_status", "run_source_run"} <= indexes(database, "runs_run")
    assert "runs_run_owner_id_b1defaec" not in indexes(database, "runs_run")

    migrate(database, "runs", "0010")
    migrate(database, "evaluations", "0002")
    assert "runs_run_owner_id_b1defaec" in indexes(database, "runs_run")
    assert "runs_runevent_type_7d999fae" in indexes(database, "runs_runevent")
    assert "run_unfinished_status" not in indexes(database, "runs_run")

    migrate(database)
    assert "runs_runevent_type_7d999fae" not in indexes(database, "runs_runevent")
    assert "evaluations_experimentitem_experiment_id_ca08d7e7" not in indexes(
        database, "evaluations_experimentitem"
    )
