"""Saved versions in the builder: what changed between two, restoring one, and the prompt
before leaving with unsaved changes."""

import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import make_team, supervisor_spec

from .canvas import drop_from_palette, node, open_builder, save
from .conftest import save_doc_screenshot

pytestmark = pytest.mark.browser


def css_class(name_start: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){re.escape(name_start)}")


LAYOUT = {"positions": {"lead": {"x": 300, "y": 60}, "worker": {"x": 300, "y": 320}}}


def test_it_shows_what_changed_between_versions_and_restores_one(
    page: Page, alice, alice_client: Client
):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    first = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    open_builder(page, team.pk)

    # Version 2: the worker renamed and a new agent added.
    node(page, "worker").click()
    page.get_by_test_id("field-name").fill("Analyst")
    drop_from_palette(page, "agent", 600, 350)
    expect(node(page, "agent-3")).to_be_visible()
    save(page)

    # Compare v1 with v2: listed in the drawer, highlighted on the canvas.
    page.get_by_role("button", name="Show saved versions").click()
    history = page.get_by_test_id("history")
    expect(history.get_by_role("button", name="Restore version 2")).to_be_visible()
    history.get_by_role("button", name="Compare", exact=True).click()
    diff = page.get_by_test_id("diff")
    expect(diff).to_contain_text("Nodes added")
    expect(diff).to_contain_text("agent-3")
    expect(diff).to_contain_text("Nodes edited")
    expect(node(page, "agent-3")).to_have_class(css_class("diff-added"))
    expect(node(page, "worker")).to_have_class(css_class("diff-edited"))
    expect(node(page, "lead")).not_to_have_class(css_class("diff-"))
    save_doc_screenshot(page, "builder-history")

    # Restore v1, save: version 3 is version 1 again.
    history.get_by_role("button", name="Restore version 1").click()
    expect(node(page, "agent-3")).to_have_count(0)
    expect(node(page, "worker")).to_contain_text("Worker")
    save(page)
    detail = alice_client.get(f"/api/teams/{team.pk}").json()
    assert detail["version"] == 3
    assert detail["spec"]["nodes"] == first["nodes"]
    assert detail["spec"]["edges"] == first["edges"]


def test_it_asks_before_leaving_with_unsaved_changes(page: Page, alice):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    open_builder(page, team.pk)
    node(page, "worker").click()
    page.get_by_test_id("field-name").fill("Changed")
    with page.expect_event("dialog") as dialog:
        page.close(run_before_unload=True)
    assert dialog.value.type == "beforeunload"
    dialog.value.dismiss()
    assert not page.is_closed()
