"""A canvas that stays tidy: nodes added or pasted never land on others, starters are laid out,
labels are readable and never covered, reviewers and fallbacks are drawn attached to what they
guard, edges both ways are drawn apart, and zoom, search and connect-to-nowhere help."""

import re
from typing import Any

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.axe import axe_violations
from tests.factories import make_team, minimal_spec

from .canvas import MOD, node, open_builder, press, save, wait_until_still

pytestmark = pytest.mark.browser


def boxes(page: Page) -> dict[str, dict[str, float]]:
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.react-flow__node')].map((n) => {
            const r = n.getBoundingClientRect();
            return [n.dataset.id, {x: r.x, y: r.y, width: r.width, height: r.height}];
        }))"""
    )


def overlapping(found: dict[str, dict[str, float]]) -> list[tuple[str, str]]:
    items = list(found.items())
    pairs = []
    for i, (a, ra) in enumerate(items):
        for b, rb in items[i + 1 :]:
            if (
                ra["x"] < rb["x"] + rb["width"]
                and rb["x"] < ra["x"] + ra["width"]
                and ra["y"] < rb["y"] + rb["height"]
                and rb["y"] < ra["y"] + ra["height"]
            ):
                pairs.append((a, b))
    return pairs


def uncovered(page: Page, test_id: str) -> Any:
    """Whether the element's centre is the element itself (no node drawn over it) and it lies
    wholly inside the canvas."""
    return page.evaluate(
        """(id) => {
            const el = document.querySelector(`[data-testid="${id}"]`);
            const r = el.getBoundingClientRect();
            const pane = document.querySelector('.react-flow').getBoundingClientRect();
            const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return {
                onTop: el.contains(top),
                inside: r.left >= pane.left && r.right <= pane.right && r.top >= pane.top
                    && r.bottom <= pane.bottom,
                whole: el.scrollWidth <= el.clientWidth + 1,
            };
        }""",
        test_id,
    )


def test_it_never_puts_an_added_or_pasted_node_on_another(page: Page, alice):
    team = make_team(alice, minimal_spec(name="Crowded"))
    open_builder(page, team.pk)

    # Three agents added from the palette, each "in the middle of the view".
    for _ in range(3):
        page.get_by_test_id("palette-agent").click()
    expect(page.locator(".react-flow__node")).to_have_count(4)
    wait_until_still(page)
    assert overlapping(boxes(page)) == []

    # Copy and paste twice: the copies land clear of everything.
    node(page, "lead").click()
    press(page, f"{MOD}+c")
    press(page, f"{MOD}+v")
    press(page, f"{MOD}+v")
    expect(page.locator(".react-flow__node")).to_have_count(6)
    assert overlapping(boxes(page)) == []


def test_a_starter_is_laid_out_with_readable_labels_and_its_reviewer_attached(
    page: Page, alice, alice_client: Client
):
    team = make_team(alice, minimal_spec(name="Review"))
    open_builder(page, team.pk)
    page.get_by_label("Start from a template").select_option(label="Pipeline with a review gate")
    expect(page.locator(".react-flow__node")).to_have_count(4)
    wait_until_still(page)
    assert overlapping(boxes(page)) == []

    # The editor reviews the drafter's output: a dotted line from draft to editor says so.
    guard = page.get_by_test_id("guard-reviewer:draft-publish")
    expect(guard).to_have_text("reviewed by")
    drafter, editor = boxes(page)["draft"], boxes(page)["editor"]
    assert editor["x"] > drafter["x"], "the reviewer is placed after the stage it reviews"

    # Every edge label is whole, inside the canvas, and not under a node.
    for label in ["edge-label-outline-draft", "edge-label-draft-publish"]:
        assert uncovered(page, label) == {"onTop": True, "inside": True, "whole": True}, label

    # The reviewer line is drawing only: it is not saved as an edge.
    save(page)
    spec = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    assert [e["id"] for e in spec["edges"]] == ["outline-draft", "draft-publish"]


def test_edges_both_ways_between_two_agents_are_drawn_apart(page: Page, alice):
    team = make_team(alice, minimal_spec(name="Desk"))
    open_builder(page, team.pk)
    page.get_by_label("Start from a template").select_option(label="Swarm of specialists")
    wait_until_still(page)
    there = page.get_by_test_id("edge-label-triage-billing")
    back = page.get_by_test_id("edge-label-billing-triage")
    # Triage is above billing: the handoff down is bent aside, the one back up loops round.
    expect(there).to_have_attribute("data-route", "bent")
    expect(back).to_have_attribute("data-route", "loop")
    a, b = there.bounding_box(), back.bounding_box()
    assert a and b
    assert abs(a["x"] - b["x"]) + abs(a["y"] - b["y"]) > 40, (a, b)
    paths = page.evaluate(
        """() => ['triage-billing', 'billing-triage'].map((id) =>
            document.querySelector(`.react-flow__edge[data-id="${id}"] path.react-flow__edge-path`)
                .getAttribute('d'))"""
    )
    assert paths[0] != paths[1]


def test_a_backwards_pipeline_edge_loops_under_the_stages(page: Page, alice):
    spec = minimal_spec(
        "pipeline",
        name="Loop",
        nodes=[
            {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "A."},
            {"kind": "agent", "id": "late", "name": "Late", "instructions": "B."},
        ],
        edges=[{"id": "back", "source": "late", "target": "lead", "kind": "next"}],
        layout={"positions": {"lead": {"x": 0, "y": 0}, "late": {"x": 500, "y": 0}}},
    )
    team = make_team(alice, spec, draft=True)
    open_builder(page, team.pk)
    label = page.get_by_test_id("edge-label-back")
    expect(label).to_have_attribute("data-route", "loop")
    lowest = max(b["y"] + b["height"] for b in boxes(page).values())
    box = label.bounding_box()
    assert box and box["y"] > lowest, "the back edge's label is below the stages, not on them"


def test_zoom_controls_search_and_a_connection_dropped_on_empty_canvas(page: Page, alice):
    team = make_team(alice, minimal_spec(name="Team"))
    open_builder(page, team.pk)
    page.get_by_label("Start from a template").select_option(label="Supervisor with two workers")
    wait_until_still(page)

    # Zoom: readable buttons and the level in percent.
    level = page.get_by_test_id("zoom-level")
    before = int(level.inner_text().rstrip("%"))
    page.get_by_role("button", name="Zoom in").click()
    expect(level).not_to_have_text(f"{before}%")
    assert int(level.inner_text().rstrip("%")) > before
    page.get_by_role("button", name="Zoom out").click()
    page.get_by_role("button", name="Fit the team in view").first.click()
    wait_until_still(page)

    # Search: typing part of a name and pressing Enter selects that node.
    page.get_by_test_id("node-search").fill("writ")
    page.get_by_role("list", name="Matching nodes").get_by_role("button").first.click()
    expect(page.locator('.react-flow__node[data-id="writer"]')).to_have_class(
        re.compile(r"\bselected\b")
    )
    expect(page.get_by_role("heading", name="Agent · writer")).to_be_visible()
    page.get_by_test_id("node-search").fill("nobody")
    expect(page.get_by_text("No node matches.")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_test_id("node-search").fill("")

    # A connection dragged from the lead and dropped on empty canvas offers a node picker.
    start = page.locator('.react-flow__node[data-id="lead"] .react-flow__handle.source')
    box = start.bounding_box()
    pane = page.locator(".react-flow").bounding_box()
    assert box and pane
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(pane["x"] + pane["width"] - 120, pane["y"] + pane["height"] - 120, steps=12)
    page.mouse.up()
    picker = page.get_by_test_id("connect-picker")
    expect(picker).to_be_visible()
    assert axe_violations(page) == []
    picker.get_by_role("menuitem", name="Human").click()
    expect(picker).to_be_hidden()
    expect(page.locator(".react-flow__node")).to_have_count(4)
    expect(page.get_by_test_id("edge-label-lead-human-1")).to_contain_text("delegates")
    assert overlapping(boxes(page)) == []

    # Escape closes the picker without adding anything.
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(pane["x"] + 60, pane["y"] + pane["height"] - 60, steps=12)
    page.mouse.up()
    expect(picker).to_be_visible()
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(page.locator(".react-flow__node")).to_have_count(4)
