"""At 390 px the builder shows the whole team on the canvas, read-only, with its toolbar folded
into one menu that can still run the team."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.axe import axe_violations
from tests.factories import make_team, minimal_spec

from .canvas import wait_until_still

pytestmark = pytest.mark.browser

SPEC = minimal_spec(
    name="Phone team",
    nodes=[
        {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Plan."},
        {"kind": "agent", "id": "helper", "name": "Helper", "instructions": "Help."},
    ],
    edges=[{"id": "lead-helper", "source": "lead", "target": "helper", "kind": "delegates"}],
    # Saved on a wide screen, far to the right: a phone still shows the whole team.
    layout={
        "positions": {"lead": {"x": 0, "y": 0}, "helper": {"x": 900, "y": 300}},
        "viewport": {"x": -2000, "y": 0, "zoom": 1.5},
    },
)


def test_a_phone_sees_the_team_read_only_with_a_menu(page: Page, alice, alice_client: Client):
    team = make_team(alice, SPEC)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/teams/{team.pk}/builder/")
    expect(page.locator(".react-flow__pane")).to_be_visible()
    wait_until_still(page)

    # The canvas fills the width and both nodes are on screen.
    pane = page.locator(".react-flow").bounding_box()
    assert pane and pane["width"] >= 380 and pane["height"] >= 400
    for node_id in ("lead", "helper"):
        box = page.locator(f'.react-flow__node[data-id="{node_id}"]').bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, node_id
    expect(page.get_by_test_id("read-only")).to_be_visible()
    expect(page.get_by_role("region", name="Palette")).to_have_count(0)
    expect(page.get_by_role("complementary", name="Properties")).to_have_count(0)
    expect(page.get_by_role("button", name="Save a new version (Ctrl+S)")).to_have_count(0)

    # Read-only: dragging a node pans the view but moves no node against another, and
    # Delete removes nothing.
    lead = page.locator('.react-flow__node[data-id="lead"]')
    helper = page.locator('.react-flow__node[data-id="helper"]')

    def gap() -> tuple[float, float]:
        a, b = lead.bounding_box(), helper.bounding_box()
        assert a and b
        return round(b["x"] - a["x"]), round(b["y"] - a["y"])

    before, start = gap(), lead.bounding_box()
    assert start
    page.mouse.move(start["x"] + 20, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + 120, start["y"] + 110, steps=8)
    page.mouse.up()
    assert gap() == before
    page.keyboard.press("Delete")
    expect(lead).to_have_count(1)

    # The toolbar is one menu; it still runs the team.
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Run the team").click()
    expect(page.get_by_test_id("run-dialog")).to_be_visible()

    # Nothing was changed or saved from the phone.
    assert alice_client.get(f"/api/teams/{team.pk}").json()["version"] == 1
