"""The evidence bundle: one zip with the trail, its signed head, the keys, the artifacts, the
webhook deliveries and the trace id, that its own checker verifies outside the product, and
that refuses to verify once an event in it is edited."""

import hashlib
import io
import json
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from runs.models import Artifact, Webhook, WebhookDelivery
from tests.factories import append_event, make_ended_run, make_run, make_user, sign_head

pytestmark = pytest.mark.django_db

DATA = b"quarter,revenue\nQ1,10\n"


@pytest.fixture
def media(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def evidenced_run(owner):
    run = make_ended_run(owner, events=4, started_by="schedule:7")
    append_event(run, "human.answered", key="k#answered", payload={"answer": "yes", "by": "carol"})
    sign_head(run)
    Artifact.objects.create(
        run=run, name="revenue.csv", content_type="text/csv", size=len(DATA),
        sha256=hashlib.sha256(DATA).hexdigest(), file=ContentFile(DATA, name="revenue.csv"),
    )  # fmt: skip
    return run


def bundle(client: Client, run) -> zipfile.ZipFile:
    response = client.get(f"/api/runs/{run.id}/evidence.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f'filename="run-{run.id}-evidence.zip"' in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "verify_audit.py", "trail.jsonl", "public-keys.json"],
        cwd=folder, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_bundle_verifies_outside_the_product(alice, alice_client, media, tmp_path) -> None:
    run = evidenced_run(alice)
    zf = bundle(alice_client, run)
    assert sorted(zf.namelist()) == sorted([
        "trail.jsonl", "signed-head.json", "public-keys.json", "verification.json",
        "webhook-deliveries.json", "trace-id.txt", f"artifacts/{run.artifacts.get().id}-revenue.csv",
        "artifacts.sha256", "verify_audit.py", "README.md",
    ])  # fmt: skip
    zf.extractall(tmp_path / "b")
    folder = tmp_path / "b"

    # The checker the README names says the trail is intact and signed.
    result = check(folder)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("intact")
    assert json.loads((folder / "signed-head.json").read_text())["seq"] == 5
    assert json.loads((folder / "verification.json").read_text())["ok"] is True
    assert (folder / "trace-id.txt").read_text().strip() == run.id.hex
    assert subprocess.run(["sha256sum", "-c", "artifacts.sha256"], cwd=folder).returncode == 0
    readme = (folder / "README.md").read_text()
    assert "python3 verify_audit.py trail.jsonl public-keys.json" in readme
    assert "Started by: schedule:7" in readme
    assert "event 5" in readme and "carol" in readme


def test_an_edited_event_in_the_bundle_fails_the_check(
    alice, alice_client, media, tmp_path
) -> None:
    run = evidenced_run(alice)
    bundle(alice_client, run).extractall(tmp_path)
    trail = tmp_path / "trail.jsonl"
    lines = trail.read_text().splitlines()
    # Someone rewrites what an agent said in step 2.
    lines[1] = lines[1].replace("Step 2 of the work", "Step 2 of the fraud")
    trail.write_text("\n".join(lines) + "\n")
    result = check(tmp_path)
    assert result.returncode == 1
    assert "2" in result.stdout + result.stderr


def test_the_bundle_holds_every_webhook_delivery_attempt(alice, alice_client, media) -> None:
    from tests.factories import make_supervisor_team

    team = make_supervisor_team(alice)
    run = make_run(alice, team=team, status="succeeded")
    append_event(run, "run.started")
    hook = Webhook.objects.create(team=team, url="https://hooks.example.org/r", secret="s")
    delivery = uuid.uuid4()
    for attempt, ok in ((1, False), (2, True)):
        WebhookDelivery.objects.create(
            webhook=hook, run=run, delivery_id=delivery, kind="finished", url=hook.url,
            attempt=attempt, ok=ok, status_code=200 if ok else 500,
        )  # fmt: skip
    log = json.loads(bundle(alice_client, run).read("webhook-deliveries.json"))
    assert [(d["attempt"], d["ok"], d["status_code"]) for d in log] == [
        (1, False, 500),
        (2, True, 200),
    ]


def test_another_users_run_has_no_bundle(alice, media) -> None:
    run = evidenced_run(alice)
    bob = Client()
    bob.force_login(make_user("bob"))
    assert bob.get(f"/api/runs/{run.id}/evidence.zip").status_code == 404
    assert Client().get(f"/api/runs/{run.id}/evidence.zip").status_code == 401
