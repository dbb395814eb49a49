"""The backup procedure of docs/operating.md, run once for real by
scripts/backup_restore_check.sh: a database full of runs (executed ones, old ones archived,
artifacts) is dumped with pg_dump -Fc, restored into a fresh database, and every chain verifies
there, provided the keys kept out of the dump and the folders beside it come back too."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command

from runs.models import Artifact, Run, RunEvent
from tests.factories import make_ended_run, make_team, make_user, supervisor_spec
from tests.runs.helpers import logged_in, start, wait_for_status
from tests.runs.live import database_url_of_this_test

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "backup_restore_check.sh"
OTHER_KEY = "ob1Wc6Ty0C6S6fWJ3bm6Ig4rYxhy2mT6R0u8v0WJr1Q="


@pytest.fixture
def folders(settings: Any, tmp_path: Path) -> dict[str, str]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ARCHIVE_ROOT = tmp_path / "archives"
    return {"MEDIA_ROOT": str(settings.MEDIA_ROOT), "ARCHIVE_ROOT": str(settings.ARCHIVE_ROOT)}


@pytest.fixture
def filled(settings: Any, folders: dict[str, str]) -> dict[str, int]:
    """Executed runs (one with an artifact), many old runs, half of them archived."""
    settings.RUN_EXECUTOR = "thread"
    alice = make_user("alice")
    client, team = logged_in(alice), make_team(alice, supervisor_spec())
    executed = [start(client, team.id, {"task": f"Task {n}"}) for n in range(3)]
    for run_id in executed:
        assert wait_for_status(run_id, "succeeded").status == "succeeded"
    data = b"quarter,revenue\nQ1,10\n"
    Artifact.objects.create(run_id=executed[0], name="revenue.csv", content_type="text/csv",
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            file=ContentFile(data, name="revenue.csv"))  # fmt: skip
    for n in range(10):
        make_ended_run(alice, events=20 + n, days_ago=100 if n % 2 else 5)
    call_command("archiveruns", "--older-than", "30", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert Run.objects.archived().count() == 5
    events = sum((r.audit_head or {}).get("seq", 0) for r in Run.objects.all())
    assert events > RunEvent.objects.count()  # the archived ones' are only in their files
    return {"runs": Run.objects.count(), "events": events}


def backup_restore_check(folders: dict[str, str], tmp_path: Path, **env: str) -> tuple[int, str]:
    url = database_url_of_this_test()
    scratch = f"{url.rsplit('/', 1)[1]}_restored"
    env = {"DATABASE_URL": url, "RESTORE_DATABASE": scratch, "PYTHON": sys.executable,
           "PYTHONPATH": str(ROOT), **folders, **env}  # fmt: skip
    done = subprocess.run(
        [str(SCRIPT), str(tmp_path / "orchestrator.dump")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode, done.stdout + done.stderr


def test_a_dump_restored_into_a_fresh_database_verifies_every_run(
    filled: dict[str, int], folders: dict[str, str], tmp_path: Path
) -> None:
    code, said = backup_restore_check(folders, tmp_path)
    assert code == 0, said
    assert f"Verified {filled['runs']} runs ({filled['events']} events)." in said
    assert "Checked 1 artifact files." in said
    assert (tmp_path / "orchestrator.dump").stat().st_size > 0


def test_a_restore_without_the_signing_key_kept_apart_does_not_verify(
    filled: dict[str, int], folders: dict[str, str], tmp_path: Path
) -> None:
    # The operator lost AUDIT_SIGNING_KEY and starts the restored database with a new one.
    code, said = backup_restore_check(folders, tmp_path, AUDIT_SIGNING_KEY=OTHER_KEY)
    assert code == 1
    assert said.count("was signed with a key this server does not know") == filled["runs"]


def test_a_restore_without_the_archives_and_media_names_what_is_missing(
    filled: dict[str, int], folders: dict[str, str], tmp_path: Path
) -> None:
    empty = {"MEDIA_ROOT": str(tmp_path / "none"), "ARCHIVE_ROOT": str(tmp_path / "none")}
    code, said = backup_restore_check(empty, tmp_path)
    assert code == 1
    assert said.count("The run is archived. Its archive cannot be read") == 5
    assert "(revenue.csv) has no file: restore MEDIA_ROOT." in said
