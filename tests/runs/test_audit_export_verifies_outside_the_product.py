"""The check in docs/reading-an-audit-trail.md (docs/examples/verify_audit.py), run as an
auditor would (a plain Python process on the exported JSON Lines or CSV and the published
public key), says a real run's trail is intact, and catches a trail that someone with database
access rewrote and re-hashed or cut short before it was exported."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.test import Client

from tests.factories import make_team, make_user, supervisor_spec
from tests.runs.helpers import logged_in, start, wait_for_status
from tests.runs.test_audit_head_is_signed import cut_tail, events_of, rewrite

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "reading-an-audit-trail.md"
SCRIPT = ROOT / "docs" / "examples" / "verify_audit.py"


@pytest.fixture
def owner(settings: Any) -> Any:
    settings.RUN_EXECUTOR = "thread"
    return make_user()


@pytest.fixture
def client(owner: Any) -> Client:
    return logged_in(owner)


@pytest.fixture
def run_id(client: Client, owner: Any) -> str:
    run_id = start(client, make_team(owner, supervisor_spec()).id, {"task": "Hi"})
    assert wait_for_status(run_id, "succeeded", "failed").status == "succeeded"
    return run_id


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """What the server publishes, saved as the auditor would save it (no log-in needed)."""
    path = tmp_path / "keys.json"
    path.write_bytes(Client().get("/api/audit/public-key").content)
    return path


def export(client: Client, run_id: str, kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"run-{run_id}.{kind}"
    path.write_bytes(b"".join(client.get(f"/api/runs/{run_id}/audit.{kind}").streaming_content))
    return path


def check(trail: Path, keys: Path) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(trail), str(keys)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.returncode, (done.stdout + done.stderr).strip()


def test_the_doc_shows_the_script_it_ships() -> None:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert code == SCRIPT.read_text()


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_an_untouched_export_is_intact(
    client: Client, run_id: str, keys: Path, kind: str, tmp_path: Path
) -> None:
    code, said = check(export(client, run_id, kind, tmp_path), keys)
    assert code == 0, said
    assert said.startswith(f"intact: {len(events_of(run_id))} events of run {run_id}")


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_trail_rewritten_and_rehashed_in_the_database_is_caught(
    client: Client, run_id: str, keys: Path, kind: str, tmp_path: Path
) -> None:
    rewrite(run_id, 3, {"content": "something the model never said"})
    code, said = check(export(client, run_id, kind, tmp_path), keys)
    assert code == 1
    assert said.startswith(f"rewritten: event {len(events_of(run_id))}'s hash is not the one")


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_a_trail_cut_short_in_the_database_is_caught(
    client: Client, run_id: str, keys: Path, kind: str, tmp_path: Path
) -> None:
    total = len(events_of(run_id))
    cut_tail(run_id, total - 1)
    code, said = check(export(client, run_id, kind, tmp_path), keys)
    assert code == 1
    assert said.startswith("truncated: the head signed at ") and said.endswith(
        f"says the run had {total} events, the trail has {total - 1}"
    )


def test_an_export_edited_afterwards_names_the_event(
    client: Client, run_id: str, keys: Path, tmp_path: Path
) -> None:
    trail = export(client, run_id, "jsonl", tmp_path)
    lines = trail.read_text().splitlines()
    third = json.loads(lines[2])
    third["payload"]["edited"] = True
    lines[2] = json.dumps(third)
    trail.write_text("\n".join(lines) + "\n")
    assert check(trail, keys) == (1, "broken at event 3: its content does not match its hash")


def test_a_key_the_auditor_was_not_given_is_refused(
    client: Client, run_id: str, tmp_path: Path
) -> None:
    other = tmp_path / "other.pem"
    public = Ed25519PrivateKey.generate().public_key()
    other.write_bytes(public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    code, said = check(export(client, run_id, "jsonl", tmp_path), other)
    assert code == 1
    assert "which is not among the keys given" in said
