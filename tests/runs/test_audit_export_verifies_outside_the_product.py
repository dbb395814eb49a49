"""The check in docs/reading-an-audit-trail.md, run as an auditor would (a plain Python
process on the exported JSON Lines), says a real run's trail is intact and names the first
event that was changed."""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.factories import make_team, make_user, supervisor_spec
from tests.runs.helpers import logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)
DOC = Path(__file__).resolve().parents[2] / "docs" / "reading-an-audit-trail.md"


def auditor_script(tmp_path: Path) -> Path:
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    script = tmp_path / "check_trail.py"
    script.write_text(code)
    return script


def check(script: Path, trail: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(script), str(trail)], capture_output=True, text=True, timeout=30
    )
    return (done.stdout + done.stderr).strip()


def test_the_documented_check_verifies_an_export_and_finds_a_change(
    settings: Any, tmp_path: Path
) -> None:
    settings.RUN_EXECUTOR = "thread"
    alice = make_user()
    client = logged_in(alice)
    run = wait_for_status(start(client, make_team(alice, supervisor_spec()).id, {"task": "Hi"}),
                          "succeeded", "failed")  # fmt: skip
    export = b"".join(client.get(f"/api/runs/{run.id}/audit.jsonl").streaming_content)
    trail = tmp_path / "trail.jsonl"
    trail.write_bytes(export)
    script = auditor_script(tmp_path)

    assert check(script, trail) == "intact"

    # Someone edits what the third event says after the fact.
    lines = export.decode().splitlines()
    third = json.loads(lines[2])
    third["payload"]["edited"] = True
    lines[2] = json.dumps(third)
    trail.write_text("\n".join(lines) + "\n")
    assert check(script, trail) == "broken at event 3"
