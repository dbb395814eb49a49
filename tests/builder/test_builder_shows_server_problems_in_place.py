"""The server's validation drawn where the problem is: on the edge that closes a cycle."""

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_team

from .canvas import connect, open_builder, press, save
from .conftest import save_doc_screenshot

pytestmark = pytest.mark.browser

PIPELINE = {
    "name": "Two stages",
    "pattern": "pipeline",
    "entry": "draft",
    "nodes": [
        {"kind": "agent", "id": "draft", "name": "Drafter", "instructions": "Draft."},
        {"kind": "agent", "id": "polish", "name": "Polisher", "instructions": "Polish."},
    ],
    "edges": [{"id": "draft-polish", "source": "draft", "target": "polish", "kind": "next"}],
    "layout": {"positions": {"draft": {"x": 100, "y": 150}, "polish": {"x": 500, "y": 150}}},
}


def test_it_marks_the_edge_closing_a_pipeline_cycle_until_it_is_removed(
    page: Page, alice, alice_client
):
    team = make_team(alice, PIPELINE)
    open_builder(page, team.pk)
    expect(page.get_by_test_id("validation-status")).to_have_text("No errors")

    # Polisher -> Drafter closes a cycle: the server's problem appears on that edge.
    connect(page, "polish", "draft")
    badge = page.get_by_test_id("edge-problems-polish-draft")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("aria-label", "1 problem: " + badge.get_attribute("title"))
    problem = page.locator('[data-testid=problem][data-code="pipeline_cycle"]')
    expect(problem).to_have_count(1)
    save_doc_screenshot(page, "builder-problems")

    # Invalid teams can still be saved, as drafts.
    save(page)
    expect(page.get_by_test_id("status")).to_contain_text("as a draft")
    assert alice_client.get(f"/api/teams/{team.pk}").json()["is_valid"] is False

    # Choosing the problem selects the edge; deleting it clears the problem.
    problem.click()
    expect(page.get_by_role("heading", name="Edge · polish-draft")).to_be_visible()
    press(page, "Delete")
    expect(badge).to_have_count(0)
    expect(page.get_by_test_id("validation-status")).to_have_text("No errors")
    expect(page.get_by_test_id("problem")).to_have_count(0)
