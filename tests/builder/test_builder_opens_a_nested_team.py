"""A nested team opens as its own canvas, edited with the same tools, with a breadcrumb
("Team > Nested") back; what was changed inside lands in the parent's spec when it is saved.
With SHOTS_DIR set, the nested canvas is also saved at 1280x720 and 390x844."""

import os

import pytest
from django.test import Client
from playwright.sync_api import Locator, Page, expect

from tests.factories import make_team, minimal_spec, supervisor_spec

from .canvas import node, open_builder, press, save, wait_until_still
from .conftest import save_doc_screenshot

pytestmark = pytest.mark.browser


def nested_team_spec() -> dict:
    inner = minimal_spec(
        "pipeline",
        name="Checks",
        entry="lint",
        nodes=[
            {"kind": "agent", "id": "lint", "name": "Linter", "instructions": "Lint."},
            {"kind": "agent", "id": "tests", "name": "Tester", "instructions": "Test."},
        ],
        edges=[{"id": "lint-tests", "source": "lint", "target": "tests", "kind": "next"}],
    )
    spec = supervisor_spec(name="Review desk")
    spec["nodes"].append({"kind": "team", "id": "checks", "name": "Checks team", "spec": inner})
    spec["edges"].append({"id": "e2", "source": "lead", "target": "checks", "kind": "delegates"})
    return spec


def overlapping(a: Locator, b: Locator) -> bool:
    one, other = a.bounding_box(), b.bounding_box()
    assert one and other
    apart_x = one["x"] + one["width"] <= other["x"] or other["x"] + other["width"] <= one["x"]
    apart_y = one["y"] + one["height"] <= other["y"] or other["y"] + other["height"] <= one["y"]
    return not (apart_x or apart_y)


def shoot(page: Page, name: str) -> None:
    if folder := os.environ.get("SHOTS_DIR"):
        for width, height, tag in [(1280, 720, "desktop"), (390, 844, "phone")]:
            page.set_viewport_size({"width": width, "height": height})
            page.get_by_role("button", name="Fit the team in view").last.click()
            page.wait_for_timeout(400)  # the fit animates; only for the picture
            wait_until_still(page)
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=f"{folder}/{name}-{tag}.png")
        page.set_viewport_size({"width": 1280, "height": 720})


def test_a_nested_team_opens_as_a_canvas_and_its_edits_land_in_the_parent(
    page: Page, alice, alice_client: Client
) -> None:
    team = make_team(alice, nested_team_spec())
    open_builder(page, team.pk)

    # Double-click the team node: its own graph fills the canvas, with the way back on top.
    node(page, "checks").dblclick()
    crumbs = page.get_by_test_id("breadcrumb")
    expect(crumbs).to_contain_text("Review desk")
    expect(crumbs).to_contain_text("Checks team")
    expect(node(page, "lint")).to_be_visible()
    expect(node(page, "tests")).to_be_visible()
    expect(node(page, "lead")).to_have_count(0)
    # The way back and the node search share the corner without covering each other.
    expect(page.get_by_test_id("node-search")).to_be_visible()
    assert not overlapping(crumbs, page.get_by_test_id("node-search"))
    expect(page.get_by_test_id("validation-status")).to_have_text("No errors")
    shoot(page, "builder-nested")
    save_doc_screenshot(page, "builder-nested")

    # Edit inside with the same tools: rename the linter in the inspector.
    node(page, "lint").click()
    name = page.get_by_test_id("field-name")
    name.fill("Style checker")
    expect(node(page, "lint")).to_contain_text("Style checker")

    # Back through the breadcrumb: the parent again, and the change waits to be saved.
    crumbs.get_by_role("button", name="Review desk").click()
    expect(page.get_by_test_id("breadcrumb")).to_have_count(0)
    expect(node(page, "lead")).to_be_visible()
    save(page)

    saved = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    inner = next(n for n in saved["nodes"] if n["id"] == "checks")["spec"]
    assert [n["name"] for n in inner["nodes"]] == ["Style checker", "Tester"]
    assert inner["edges"][0]["source"] == "lint"  # the inner graph kept its shape


def test_the_inspector_opens_it_too_and_undo_takes_back_the_nested_edit(page: Page, alice) -> None:
    team = make_team(alice, nested_team_spec())
    open_builder(page, team.pk)

    node(page, "checks").click()
    page.get_by_test_id("open-team").click()
    expect(node(page, "lint")).to_be_visible()
    node(page, "tests").click()
    page.get_by_test_id("field-name").fill("QA")
    page.get_by_test_id("breadcrumb").get_by_role("button", name="Review desk").click()
    expect(node(page, "checks")).to_be_visible()

    # Everything done inside is one step of the parent's history.
    page.get_by_role("button", name="Undo (Ctrl+Z)").click()
    node(page, "checks").get_by_role("button", name="Open Checks team").click()
    expect(node(page, "tests")).to_contain_text("Tester")

    # Escape on the canvas goes back up a level.
    press(page, "Escape")
    expect(page.get_by_test_id("breadcrumb")).to_have_count(0)
    expect(node(page, "lead")).to_be_visible()
