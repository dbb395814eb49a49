"""The canvas without a mouse: Tab reaches the nodes, Enter selects one, the arrow keys move
it, the side panel connects it to another node, and Delete removes it."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.axe import axe_violations
from tests.factories import make_team, minimal_spec

from .canvas import open_builder, save

pytestmark = pytest.mark.browser

SPEC = minimal_spec(
    name="Keys",
    nodes=[
        {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Plan."},
        {"kind": "agent", "id": "helper", "name": "Helper", "instructions": "Help."},
        {"kind": "agent", "id": "spare", "name": "Spare", "instructions": "Wait."},
    ],
    layout={
        "positions": {
            "lead": {"x": 0, "y": 0},
            "helper": {"x": 0, "y": 300},
            "spare": {"x": 400, "y": 300},
        }
    },
)


def focused_node(page: Page) -> str | None:
    return page.evaluate("() => document.activeElement.closest('.react-flow__node')?.dataset.id")


def test_select_move_connect_and_delete_with_the_keyboard(page: Page, alice, alice_client: Client):
    team = make_team(alice, SPEC, draft=True)
    open_builder(page, team.pk)

    # Tab from the node search reaches a node of the canvas.
    page.get_by_test_id("node-search").focus()
    for _ in range(40):
        page.keyboard.press("Shift+Tab")
        if focused_node(page) == "lead":
            break
    assert focused_node(page) == "lead"

    # Enter selects it (its panel opens); the arrow keys move it.
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Agent · lead")).to_be_visible()
    lead = page.locator('.react-flow__node[data-id="lead"]')
    before = lead.bounding_box()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    after = lead.bounding_box()
    assert before and after and after["x"] > before["x"]

    # Connect from the side panel, by keyboard only.
    page.get_by_label("Connect to").focus()
    page.get_by_label("Connect to").select_option("helper")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("edge-label-lead-helper")).to_contain_text("delegates")

    # Select the spare node by keyboard and delete it.
    page.locator('.react-flow__node[data-id="spare"]').focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Agent · spare")).to_be_visible()
    page.locator('.react-flow__node[data-id="spare"]').focus()
    page.keyboard.press("Delete")
    expect(page.locator('.react-flow__node[data-id="spare"]')).to_have_count(0)
    assert axe_violations(page) == []

    save(page)
    spec = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    assert [n["id"] for n in spec["nodes"]] == ["lead", "helper"]
    assert [(e["source"], e["target"]) for e in spec["edges"]] == [("lead", "helper")]
    assert spec["layout"]["positions"]["lead"]["x"] > 0
