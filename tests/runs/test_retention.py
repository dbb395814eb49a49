"""Retention (runs.archive, ``manage.py archiveruns``): finished runs past the retention period
leave the database for archive files the offline check verifies, stay listed with a link to
their archive, and are never lost or doubled by a pass killed half way; runs that are recent
or still active are never touched, and live runs keep appending while a pass deletes."""

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from runs import archive
from runs.audit import verify
from runs.models import Run, RunEvent
from tests.factories import (
    append_event,
    make_ended_run,
    make_run,
    make_team,
    make_user,
    supervisor_spec,
)
from tests.runs.helpers import logged_in, start, wait_for_status
from tests.runs.live import database_url_of_this_test
from tests.runs.test_audit_export_verifies_outside_the_product import check
from tests.runs.test_audit_head_is_signed import rewrite

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def archives(settings: Any, tmp_path: Path) -> Path:
    settings.ARCHIVE_ROOT = tmp_path / "archives"
    return settings.ARCHIVE_ROOT


@pytest.fixture
def alice() -> Any:
    return make_user("alice")


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """The published public keys, saved as an auditor saves them."""
    path = tmp_path / "keys.json"
    path.write_bytes(Client().get("/api/audit/public-key").content)
    return path


def archiveruns(*args: str) -> str:
    out = StringIO()
    call_command("archiveruns", *args, stdout=out, stderr=out)
    return out.getvalue()


def events_of(run: Any) -> int:
    return RunEvent.objects.filter(run_id=run.id).count()


def executed_run(alice: Any, settings: Any, days_ago: int) -> Run:
    """A run the engine really executed (on a thread), then aged ``days_ago``."""
    settings.RUN_EXECUTOR = "thread"
    run_id = start(logged_in(alice), make_team(alice, supervisor_spec()).id, {"task": "Hi"})
    assert wait_for_status(run_id, "succeeded").status == "succeeded"
    then = timezone.now() - timedelta(days=days_ago)
    Run.objects.filter(id=run_id).update(created_at=then, finished_at=then)
    return Run.objects.get(id=run_id)


def test_it_archives_old_runs_to_files_the_offline_check_verifies(
    alice: Any, archives: Path, keys: Path, settings: Any
) -> None:
    old = [make_ended_run(alice, events=n, status=s)
           for n, s in [(3, "succeeded"), (40, "failed"), (7, "cancelled")]]  # fmt: skip
    old.append(executed_run(alice, settings, days_ago=31))
    said = archiveruns("--older-than", "30", "--batch", "2")
    assert said.startswith("Archived 4 of 4 runs")
    for run in old:
        run.refresh_from_db()
        # Its events left the database; its file holds them all, signed head last.
        assert events_of(run) == 0 and run.is_archived
        path = archives / run.archive_path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == run.archive_sha256
        code, out = check(path, keys)
        seq = run.audit_head["seq"]
        assert (code, out.split(", signed")[0]) == (0, f"intact: {seq} events of run {run.id}")
        # The product's verify reads it from the archive.
        assert verify(run) | {"head": None} == {
            "ok": True, "events": seq, "head": None, "signed_seq": seq}  # fmt: skip


def test_recent_and_active_runs_are_never_touched(alice: Any, archives: Path) -> None:
    kept = [
        make_ended_run(alice, events=4, days_ago=10),
        *(make_ended_run(alice, events=4, days_ago=400, status=s)
          for s in ("queued", "running", "waiting")),
    ]  # fmt: skip
    kept.append(make_ended_run(alice, events=0, status="cancelled"))  # nothing to move
    old = make_ended_run(alice, events=4)
    assert archiveruns("--older-than", "30").startswith("Archived 1 of 1 runs")
    for run in kept:
        run.refresh_from_db()
        assert (run.is_archived, events_of(run)) == (False, run.audit_head["seq"])
    assert events_of(old) == 0
    assert sorted(p.name for p in archives.rglob("*") if p.is_file()) == [f"run-{old.id}.jsonl"]


def test_archived_runs_stay_listed_with_a_link_their_owner_downloads(
    alice: Any, archives: Path
) -> None:
    run = make_ended_run(alice, events=6)
    archiveruns("--older-than", "30")
    client = logged_in(alice)
    [listed] = client.get("/api/runs").json()["items"]
    assert listed["id"] == str(run.id)
    assert listed["status"] == "succeeded" and listed["last_seq"] == 6
    assert listed["archive_url"] == f"/api/runs/{run.id}/archive" and listed["archived_at"]
    response = client.get(listed["archive_url"])
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    run.refresh_from_db()
    assert hashlib.sha256(body).hexdigest() == run.archive_sha256
    assert response["Content-Disposition"] == f'attachment; filename="run-{run.id}.jsonl"'
    # The JSON Lines export of an archived run is its archive.
    export = client.get(f"/api/runs/{run.id}/audit.jsonl")
    assert b"".join(export.streaming_content) == body
    assert client.get(f"/api/runs/{run.id}/verify").json()["ok"] is True
    pages = [f"/runs/{run.id}/audit/", "/runs/", f"/runs/{run.id}/"]
    for page in map(client.get, pages):
        assert f'href="/api/runs/{run.id}/archive" download'.encode() in page.content


def test_another_user_cannot_download_an_archive(alice: Any, archives: Path) -> None:
    run = make_ended_run(alice)
    archiveruns("--older-than", "30")
    mallory = logged_in(make_user("mallory"))
    assert mallory.get(f"/api/runs/{run.id}/archive").status_code == 404
    assert mallory.get(f"/api/runs/{run.id}/audit.jsonl").status_code == 404


def test_an_archive_path_pointing_out_of_the_archive_folder_is_never_served(
    alice: Any, archives: Path
) -> None:
    # Someone with database access points the run at a file of the server's.
    run = make_ended_run(alice)
    archiveruns("--older-than", "30")
    Run.objects.filter(id=run.id).update(archive_path="../../../../../../etc/passwd")
    client = logged_in(alice)
    response = client.get(f"/api/runs/{run.id}/archive")
    assert response.status_code == 404
    assert "restore it from the backup of ARCHIVE_ROOT" in response.json()["detail"]
    result = client.get(f"/api/runs/{run.id}/verify").json()
    assert result["ok"] is False and "not under ARCHIVE_ROOT" in result["reason"]


def test_an_archive_changed_on_disk_fails_verification(alice: Any, archives: Path) -> None:
    run = make_ended_run(alice, events=3)
    archiveruns("--older-than", "30")
    run.refresh_from_db()
    path = archives / run.archive_path
    path.write_text(path.read_text().replace("Step 2", "Step 9"))
    result = verify(run)
    assert result["ok"] is False
    assert "not the one written then: it was changed" in result["reason"]


def test_what_needs_the_events_says_the_run_is_archived(alice: Any, archives: Path) -> None:
    run = make_ended_run(alice)
    archiveruns("--older-than", "30")
    client = logged_in(alice)
    for response in [
        client.post(f"/api/runs/{run.id}/replay"),
        client.post(f"/api/runs/{run.id}/fork", {"from_seq": 1}, content_type="application/json"),
        client.get(f"/api/runs/{run.id}/audit.csv"),
    ]:
        assert response.status_code == 409
        assert response.json()["detail"].startswith("The run was archived on ")
        assert f"/api/runs/{run.id}/archive" in response.json()["detail"]


def test_a_run_whose_trail_does_not_verify_stays_in_the_database(
    alice: Any, archives: Path
) -> None:
    run = make_ended_run(alice, events=5)
    rewrite(str(run.id), 2, {"content": "something the model never said"})
    said = archiveruns("--older-than", "30")
    assert said.startswith("Archived 0 of 1 runs")
    assert f"Run {run.id} was not archived: its audit trail does not verify" in said
    run.refresh_from_db()
    assert (run.is_archived, events_of(run)) == (False, 5)


def test_a_dry_run_changes_nothing(alice: Any, archives: Path) -> None:
    run = make_ended_run(alice)
    said = archiveruns("--older-than", "30", "--dry-run")
    assert said == "1 runs ended more than 30 days ago; none archived.\n"
    assert events_of(run) == 5 and not archives.exists()


def test_without_a_retention_period_the_command_asks_for_one(settings: Any) -> None:
    settings.RUN_RETENTION_DAYS = 0
    with pytest.raises(CommandError, match="pass --older-than DAYS or set RUN_RETENTION_DAYS"):
        archiveruns()
    with pytest.raises(CommandError, match="1 or more"):
        archiveruns("--older-than", "0")


def test_the_daily_task_archives_only_when_a_retention_period_is_set(
    alice: Any, archives: Path, settings: Any
) -> None:
    run = make_ended_run(alice, days_ago=8)
    settings.RUN_RETENTION_DAYS = 0
    archive.retention_pass.apply()
    assert events_of(run) == 5
    settings.RUN_RETENTION_DAYS = 7
    archive.retention_pass.apply()
    run.refresh_from_db()
    assert run.is_archived and events_of(run) == 0


# --- a pass killed half way --------------------------------------------------------------


def held_lock(table: str) -> psycopg.Connection:
    """Another session holding ``table`` so nobody writes to it (reads go on) until it
    rolls back: the pass stops right before that write, where the test kills it."""
    conn = psycopg.connect(database_url_of_this_test())
    conn.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
    return conn


def start_pass(archives: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url_of_this_test(),
           "ARCHIVE_ROOT": str(archives), "PYTHONPATH": str(ROOT)}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "archiveruns", "--older-than", "30"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_until(condition: Any, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "the pass never got there"
        time.sleep(0.1)


@pytest.mark.parametrize(
    "stopped_before",
    [Run._meta.db_table, RunEvent._meta.db_table],
    ids=["file-written-run-not-marked", "run-marked-events-not-deleted"],
)
def test_a_pass_killed_half_way_is_finished_by_the_next_without_loss_or_duplicate(
    alice: Any, archives: Path, keys: Path, stopped_before: str
) -> None:
    run = make_ended_run(alice, events=30)
    lock = held_lock(stopped_before)
    process = start_pass(archives)
    try:
        file = archives / f"{run.created_at:%Y-%m}" / f"run-{run.id}.jsonl"
        if stopped_before == Run._meta.db_table:
            wait_until(file.exists)
            time.sleep(0.5)  # it now waits to mark the run
        else:
            wait_until(lambda: Run.objects.filter(id=run.id, archived_at__isnull=False).exists())
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        process.kill()
        lock.close()
    # Killed: the file is whole and every event still in the database.
    assert events_of(run) == 30
    written = file.read_bytes()
    # The next pass finishes the job.
    archiveruns("--older-than", "30")
    run.refresh_from_db()
    assert run.is_archived and events_of(run) == 0
    assert [p.name for p in archives.rglob("*") if p.is_file()] == [file.name]
    assert file.read_bytes() == written
    assert hashlib.sha256(written).hexdigest() == run.archive_sha256
    code, out = check(file, keys)
    assert code == 0 and out.startswith(f"intact: 30 events of run {run.id}"), out


# --- live runs while a pass deletes ------------------------------------------------------


def test_live_runs_keep_appending_while_a_pass_deletes(
    alice: Any, archives: Path, capsys: Any
) -> None:
    old = [make_ended_run(alice, events=3000) for _ in range(8)]
    live = make_run(alice, status="running")
    appended, slowest, stop = [], 0.0, threading.Event()

    def append_forever() -> None:
        nonlocal slowest
        from django.db import connection

        try:
            while not stop.is_set():
                started = time.perf_counter()
                appended.append(append_event(live, "message", payload={"n": len(appended)}))
                slowest = max(slowest, time.perf_counter() - started)
        finally:
            connection.close()

    writer = threading.Thread(target=append_forever)
    writer.start()
    try:
        time.sleep(0.2)
        done = archive.archive_old_runs(30, batch=3)
    finally:
        stop.set()
        writer.join(timeout=30)
    assert sorted(done.archived) == sorted(str(r.id) for r in old)
    assert done.events_deleted == 8 * 3000
    # Every live append landed, in order, and none waited on the pass.
    assert [e.seq for e in RunEvent.objects.filter(run=live).order_by("seq")] == [
        e.seq for e in appended
    ]
    assert len(appended) > 20
    # A generous bound: the pass never locks a live run's rows, so what an append waits is
    # the machine's load (measured: 300 ms at worst on 2 busy cores), not the pass.
    assert slowest < 2.0, f"an append waited {slowest:.3f} s"
    with capsys.disabled():
        print(f"\n{len(appended)} live appends during the pass, the slowest {slowest * 1000:.0f} "
              f"ms; the longest delete held its rows {done.longest_delete_ms:.0f} ms")  # fmt: skip
