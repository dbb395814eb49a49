"""In a real Chromium, the audit trail as a compliance reader meets it: who started the run and
who answered, internal keys and hashes out of the way until asked for, and an evidence bundle
that downloads as a zip the bundled checker verifies."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import append_event, make_ended_run, sign_head

pytestmark = pytest.mark.browser


def test_internal_keys_wait_behind_a_toggle(page: Page) -> None:
    run = make_ended_run(page.user, events=3, spec={"nodes": [{"id": "lead", "name": "Editor"}]})
    append_event(run, "human.answered", key="k#answered", payload={"answer": "yes", "by": "carol"})
    sign_head(run)
    page.goto(f"/runs/{run.id}/audit/")

    expect(page.get_by_test_id("started-by")).to_have_text("user alice")
    expect(page.get_by_test_id("answered-by")).to_have_text("carol (event 4)")
    row = page.locator("#seq-1")
    expect(row.get_by_role("cell").nth(3)).to_have_text("Editor")
    expect(row.locator(".key")).to_be_hidden()
    expect(page.get_by_role("columnheader", name="Hash")).to_be_hidden()

    page.get_by_label("Show internal keys and hashes").check()
    expect(row.locator(".key")).to_have_text("message#1")
    expect(page.get_by_role("columnheader", name="Hash")).to_be_visible()


def test_the_evidence_bundle_downloads_and_verifies(page: Page, tmp_path: Path) -> None:
    run = make_ended_run(page.user, events=6)
    page.goto(f"/runs/{run.id}/audit/")

    with page.expect_download() as download:
        page.get_by_role("link", name="Evidence bundle (zip)").click()
    assert download.value.suggested_filename == f"run-{run.id}-evidence.zip"
    path = tmp_path / "bundle.zip"
    download.value.save_as(path)
    zipfile.ZipFile(path).extractall(tmp_path)
    checked = subprocess.run(
        [sys.executable, "verify_audit.py", "trail.jsonl", "public-keys.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.startswith("intact")
