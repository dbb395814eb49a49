"""A person in a real Chromium signs up, creates a team, renames and duplicates it, then
deletes the copy, and sees the read-only view of its agents."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_builds_up_their_team_list(page: Page, settings: Any) -> None:
    settings.SIGNUP = "open"
    password = "a long enough pass phrase"
    page.goto("/signup/")
    page.get_by_label("Username").fill("erin")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Password confirmation").fill(password)
    page.get_by_role("button", name="Create account").click()
    # No team yet: the start page; the team list is a click away.
    expect(page.get_by_role("heading", name="Start here")).to_be_visible()
    page.goto("/teams/")
    expect(page.get_by_role("heading", name="Teams", exact=True)).to_be_visible()

    page.get_by_label("Team name").fill("Launch desk")
    page.get_by_label("Pattern").select_option("swarm")
    page.get_by_role("button", name="Create team").click()
    # A new team opens on the builder's canvas, its starter agent there.
    expect(page).to_have_url(re.compile(r"/teams/\d+/builder/$"))
    expect(page.get_by_role("heading", name="Launch desk")).to_be_visible()
    expect(page.get_by_test_id("node-lead")).to_be_visible()
    # The list offers to run it or open it in the builder.
    page.goto("/teams/")
    page.get_by_role("link", name="Open Launch desk in the builder").click()
    expect(page).to_have_url(re.compile(r"/teams/\d+/builder/$"))
    page.goto("/teams/")
    page.get_by_role("link", name="Run Launch desk").click()
    expect(page.get_by_test_id("run-dialog")).to_be_visible()
    page.goto(page.url.split("builder/")[0])
    expect(page.get_by_role("cell", name="lead entry")).to_be_visible()
    expect(page.get_by_text("No problems found.")).to_be_visible()

    page.get_by_label("New name").fill("Launch room")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("heading", name="Launch room")).to_be_visible()
    expect(page.get_by_text("v2 · Renamed to Launch room")).to_be_visible()

    page.get_by_role("button", name="Duplicate").click()
    expect(page.get_by_role("heading", name="Copy of Launch room")).to_be_visible()
    page.get_by_role("link", name="← Teams").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Copy of Launch room").click()
    expect(page.get_by_role("link", name="Launch room", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Copy of Launch room", exact=True)).to_have_count(0)
