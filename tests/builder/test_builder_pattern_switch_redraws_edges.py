"""Switching the pattern moves the nodes' handles (a supervisor's top and bottom, a pipeline's
left and right), and the edges follow them at once: no edge loops out of the old place until a
reload. Importing a file that names the team otherwise says so before anything is saved."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_team, supervisor_spec

from .canvas import open_builder, wait_until_still

pytestmark = pytest.mark.browser

LAYOUT = {"positions": {"lead": {"x": 300, "y": 60}, "worker": {"x": 300, "y": 320}}}

# Where the edge's line starts and ends on screen, and where the handles it joins are.
ENDS = """() => {
    const path = document.querySelector('.react-flow__edge path.react-flow__edge-path');
    const matrix = path.getScreenCTM();
    const at = (point) => new DOMPoint(point.x, point.y).matrixTransform(matrix);
    const centre = (selector) => {
        const box = document.querySelector(selector).getBoundingClientRect();
        return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
    };
    const start = at(path.getPointAtLength(0));
    const end = at(path.getPointAtLength(path.getTotalLength()));
    return {
        start: { x: start.x, y: start.y }, end: { x: end.x, y: end.y },
        source: centre('.react-flow__node[data-id="lead"] .react-flow__handle.source'),
        target: centre('.react-flow__node[data-id="worker"] .react-flow__handle.target'),
    };
}"""


def distance(a: dict[str, float], b: dict[str, float]) -> float:
    return float(((a["x"] - b["x"]) ** 2 + (a["y"] - b["y"]) ** 2) ** 0.5)


def assert_edge_joins_the_handles(page: Page) -> None:
    ends: Any = page.evaluate(ENDS)
    assert distance(ends["start"], ends["source"]) < 8, ends
    assert distance(ends["end"], ends["target"]) < 8, ends


def test_edges_follow_the_handles_after_a_pattern_switch_and_auto_layout(page: Page, alice):
    team = make_team(alice, supervisor_spec(layout=LAYOUT))
    open_builder(page, team.pk)
    assert_edge_joins_the_handles(page)
    source = page.locator('.react-flow__node[data-id="lead"] .react-flow__handle.source')
    expect(source).to_have_class(re.compile(r"\breact-flow__handle-bottom\b"))

    # Supervisor to pipeline, then arrange: the pipeline reads left to right.
    page.get_by_test_id("pattern").select_option("pipeline")
    page.get_by_role("button", name="Arrange the nodes automatically").click()
    expect(source).to_have_class(re.compile(r"\breact-flow__handle-right\b"))
    wait_until_still(page)
    lead = page.get_by_test_id("node-lead").bounding_box()
    worker = page.get_by_test_id("node-worker").bounding_box()
    assert lead and worker and worker["x"] > lead["x"] + lead["width"]
    assert_edge_joins_the_handles(page)

    # And back.
    page.get_by_test_id("pattern").select_option("supervisor")
    page.get_by_role("button", name="Arrange the nodes automatically").click()
    expect(source).to_have_class(re.compile(r"\breact-flow__handle-bottom\b"))
    wait_until_still(page)
    assert_edge_joins_the_handles(page)


def test_importing_a_file_that_names_the_team_otherwise_says_so(
    page: Page, alice, alice_client, tmp_path: Path
):
    team = make_team(alice, supervisor_spec(name="Support desk", layout=LAYOUT))
    open_builder(page, team.pk)
    document = supervisor_spec(name="Code review", layout=LAYOUT)
    upload = tmp_path / "code-review.json"
    upload.write_text(json.dumps(document))

    page.get_by_role("button", name="Import or export the team as JSON").click()
    page.get_by_test_id("import-file").set_input_files(upload)

    # The canvas takes the file's name, and the page says that saving renames the team.
    status = page.get_by_test_id("status")
    expect(status).to_contain_text('Imported "Code review"')
    expect(status).to_contain_text('saving renames this team from "Support desk"')
    expect(page.locator(".toolbar .team-name")).to_contain_text("Code review")
    # Nothing is renamed until the person saves.
    assert alice_client.get(f"/api/teams/{team.pk}").json()["name"] == "Support desk"
