"""In Chromium: from the team's page a person opens "Schedules and triggers", creates a
schedule (seeing its next firings as they type the cron) and a trigger (its URL and secret
shown once, copied with a click), and finds both listed; a viewer sees them without controls.
With SHOTS_DIR set, the pages are also saved at 1280x720 and 390x844."""

import os

import pytest
from playwright.sync_api import Page, expect

from teams import credentials
from tests.axe import axe_violations
from tests.browser import log_in
from tests.factories import make_supervisor_team
from tests.workspaces.helpers import shared_workspace
from triggers.models import Schedule, Trigger

pytestmark = pytest.mark.browser


def shoot(page: Page, name: str) -> None:
    if folder := os.environ.get("SHOTS_DIR"):
        for width, height, tag in [(1280, 720, "desktop"), (390, 844, "phone")]:
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{folder}/{name}-{tag}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 720})


def test_an_editor_creates_a_schedule_and_a_trigger(anonymous_page: Page, asgi_server) -> None:
    page = anonymous_page
    workspace, users = shared_workspace(editor="ed", viewer="vic")
    team = make_supervisor_team(users["olivia"])
    team.workspace = workspace
    team.save()
    log_in(page, users["ed"], asgi_server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])

    page.goto(f"/teams/{team.id}/")
    page.get_by_role("link", name="Schedules and triggers").click()
    expect(page.get_by_role("heading", name="Schedules and triggers")).to_be_visible()
    expect(page.get_by_text("No schedules yet.")).to_be_visible()

    # A schedule: the next firings appear as the cron is typed, in the zone picked.
    form = page.locator("#schedule-form")
    form.get_by_label("Name").fill("Weekday mornings")
    form.get_by_label("Time zone").select_option("Europe/Paris")
    form.get_by_label("Cron").fill("0 9 * * 1-5")
    preview = page.get_by_test_id("schedule-preview")
    expect(preview).to_contain_text("Next firings (Europe/Paris)")
    expect(preview.locator("li")).to_have_count(3)
    form.get_by_label("Input (JSON)").fill('{"question": "What changed overnight?"}')
    shoot(page, "automation-new-schedule")
    form.get_by_role("button", name="Create schedule").click()

    expect(page.get_by_text("Schedule “Weekday mornings” created.")).to_be_visible()
    row = page.get_by_test_id("schedule-row")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("0 9 * * 1-5")
    expect(row).to_contain_text("Europe/Paris")
    expect(row.locator("time")).to_have_count(3)

    # A bad cron is answered in place; nothing more is saved.
    form.get_by_label("Cron").fill("every day")
    expect(preview).to_contain_text("give five")

    # A trigger: URL and secret once, copied with a click, with the curl example.
    page.locator("#trigger_name").fill("From the CRM")
    page.get_by_role("button", name="Create trigger").click()
    once = page.get_by_test_id("new-trigger")
    expect(once).to_contain_text("Trigger “From the CRM” is ready")
    expect(once).to_contain_text("shown only this once")
    trigger = Trigger.objects.get(team=team)
    secret = credentials.decrypt(trigger.secret_encrypted)
    expect(page.locator("#new-trigger-secret")).to_have_text(secret)
    expect(page.locator("#new-trigger-curl")).to_contain_text("X-Orchestrator-Signature")
    once.get_by_role("button", name="Copy secret").click()
    expect(page.locator("#copy-status")).to_have_text("Copy secret: copied.")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shoot(page, "automation-new-trigger")

    # Listed from now on, by URL; the secret is not shown again.
    page.goto(f"/teams/{team.id}/automation/")
    listed = page.get_by_test_id("trigger-row")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"/api/hooks/{trigger.token}")
    expect(page.get_by_text(secret)).to_have_count(0)
    assert Schedule.objects.filter(team=team).count() == 1
    assert axe_violations(page) == []
    shoot(page, "automation-listed")

    # Switched off: no firings ahead.
    page.get_by_role("button", name="Switch off Weekday mornings").click()
    expect(page.get_by_test_id("schedule-row")).to_contain_text("none while off")

    # A viewer sees both, and no control at all.
    viewer = page.context.browser.new_context(viewport={"width": 1280, "height": 720},
                                              base_url=asgi_server.url).new_page()  # fmt: skip
    log_in(viewer, users["vic"], asgi_server)
    viewer.goto(f"/teams/{team.id}/automation/")
    expect(viewer.get_by_test_id("schedule-row")).to_contain_text("0 9 * * 1-5")
    expect(viewer.get_by_test_id("trigger-row")).to_contain_text(f"/api/hooks/{trigger.token}")
    expect(viewer.get_by_test_id("why-not")).to_contain_text("needs the")
    for name in ("Create schedule", "Create trigger", "Delete", "Switch on Weekday mornings"):
        expect(viewer.get_by_role("button", name=name)).to_have_count(0)
    assert axe_violations(viewer) == []
    shoot(viewer, "automation-viewer")
    viewer.context.close()
