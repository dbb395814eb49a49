"""Undo and redo of a move and a delete; exporting then importing gives the same graph."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_team, supervisor_spec

from .canvas import MOD, node, open_builder, press, save

pytestmark = pytest.mark.browser

LAYOUT = {"positions": {"lead": {"x": 300, "y": 60}, "worker": {"x": 300, "y": 320}}}


def box(page: Page, node_id: str) -> dict[str, float]:
    found = node(page, node_id).bounding_box()
    assert found
    return found


def wait_for_x(page: Page, node_id: str, x: float) -> None:
    page.wait_for_function(
        "([id, x]) => Math.abs(document.querySelector(`[data-testid=node-${id}]`)"
        ".getBoundingClientRect().x - x) < 2",
        arg=[node_id, x],
    )


def test_it_undoes_and_redoes_a_move_and_a_delete(page: Page, alice):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    open_builder(page, team.pk)
    before = box(page, "worker")

    # Move the worker 200px right, then undo and redo the move.
    page.mouse.move(before["x"] + 40, before["y"] + 20)
    page.mouse.down()
    page.mouse.move(before["x"] + 240, before["y"] + 20, steps=10)
    page.mouse.up()
    moved = box(page, "worker")
    # (React Flow starts the drag on the first step, so the node follows all but that step.)
    assert moved["x"] - before["x"] > 150
    press(page, f"{MOD}+z")
    wait_for_x(page, "worker", before["x"])
    press(page, f"{MOD}+Shift+z")
    wait_for_x(page, "worker", moved["x"])

    # Arrow keys move the selected node; a run of presses is one undo step.
    node(page, "worker").click()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for_x(page, "worker", moved["x"] + 15)
    press(page, f"{MOD}+z")
    wait_for_x(page, "worker", moved["x"])

    # Delete the worker (its edge goes with it), undo brings both back, Ctrl+Y deletes again.
    node(page, "worker").click()
    press(page, "Delete")
    expect(node(page, "worker")).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(0)
    press(page, f"{MOD}+z")
    expect(node(page, "worker")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    press(page, f"{MOD}+y")
    expect(node(page, "worker")).to_have_count(0)


def test_it_imports_what_it_exported_as_the_same_graph(
    page: Page, alice, alice_client, tmp_path: Path
):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    open_builder(page, team.pk)

    # Export to a file.
    page.get_by_role("button", name="Import or export the team as JSON").click()
    with page.expect_download() as download:
        page.get_by_test_id("export-file").click()
    exported = tmp_path / "team.json"
    download.value.save_as(exported)
    document = json.loads(exported.read_text())
    assert [n["id"] for n in document["nodes"]] == ["lead", "worker"]
    page.get_by_role("button", name="Close import or export").click()

    # Change the canvas: remove the worker.
    node(page, "worker").click()
    press(page, "Delete")
    expect(node(page, "worker")).to_have_count(0)

    # Import the file: the exported graph is back, and saving stores exactly it.
    page.get_by_role("button", name="Import or export the team as JSON").click()
    page.get_by_test_id("import-file").set_input_files(exported)
    expect(node(page, "worker")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(1)
    save(page)
    saved = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    assert {k: v for k, v in saved.items() if k != "layout"} == {
        k: v for k, v in document.items() if k != "layout"
    }
    assert saved["layout"]["positions"] == document["layout"]["positions"]


def test_it_refuses_a_file_that_is_not_a_team_and_keeps_the_canvas(
    page: Page, alice, tmp_path: Path
):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    open_builder(page, team.pk)
    bad = tmp_path / "bad.json"
    bad.write_text('{"pattern": "mesh"}')
    page.get_by_role("button", name="Import or export the team as JSON").click()
    page.get_by_test_id("import-file").set_input_files(bad)
    expect(page.get_by_test_id("io-dialog")).to_contain_text('"pattern" must be one of')
    page.get_by_role("button", name="Close import or export").click()
    expect(node(page, "worker")).to_be_visible()
    expect(node(page, "lead")).to_be_visible()


def test_it_pastes_a_copy_of_the_selection_with_new_ids(page: Page, alice):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    open_builder(page, team.pk)

    # Select everything, copy, paste: a second lead and worker, connected like the first.
    press(page, f"{MOD}+a")
    press(page, f"{MOD}+c")
    press(page, f"{MOD}+v")
    expect(node(page, "lead-2")).to_contain_text("Lead")
    expect(node(page, "worker-2")).to_contain_text("Worker")
    expect(page.locator(".react-flow__edge")).to_have_count(2)
    expect(page.get_by_test_id("edge-label-e1-2")).to_be_visible()
    # One undo takes the whole paste back.
    press(page, f"{MOD}+z")
    expect(node(page, "lead-2")).to_have_count(0)
    expect(page.locator(".react-flow__edge")).to_have_count(1)


def test_it_round_trips_the_team_through_the_clipboard(page: Page, alice):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_builder(page, team.pk)

    # Copy the JSON, then empty the canvas.
    page.get_by_role("button", name="Import or export the team as JSON").click()
    page.get_by_role("button", name="Copy JSON").click()
    expect(page.get_by_test_id("io-dialog")).to_contain_text("Copied")
    copied = json.loads(page.evaluate("navigator.clipboard.readText()"))
    assert [e["id"] for e in copied["edges"]] == ["e1"]
    page.get_by_role("button", name="Close import or export").click()
    press(page, f"{MOD}+a")
    press(page, "Delete")
    expect(page.locator(".react-flow__node")).to_have_count(0)

    # Paste it back in: the same graph.
    page.get_by_role("button", name="Import or export the team as JSON").click()
    page.get_by_label("Or paste JSON").fill(json.dumps(copied))
    page.get_by_role("button", name="Import pasted JSON").click()
    expect(node(page, "lead")).to_be_visible()
    expect(node(page, "worker")).to_be_visible()
    expect(page.get_by_test_id("edge-label-e1")).to_be_visible()
