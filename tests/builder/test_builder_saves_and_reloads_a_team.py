"""Building a supervisor team from nothing on the canvas, saving, and getting it back."""

import json
import re

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from tests.factories import make_team

from .canvas import connect, drop_from_palette, node, open_builder, save, wait_until_still
from .conftest import save_doc_screenshot

pytestmark = pytest.mark.browser

OUTPUT_SCHEMA = {"type": "object", "properties": {"summary": {"type": "string"}}}


def give_tool(page: Page, tool: str) -> None:
    offered = page.get_by_role("checkbox", name=tool)
    if offered.count():
        offered.check()  # the server lists it (GET /api/tools)
    else:
        page.get_by_test_id("field-other-tool").fill(tool)
        page.get_by_role("button", name="Add tool").click()


def viewport_transform(page: Page) -> list[float]:
    """The canvas's pan and zoom (x, y, scale), from its CSS transform. A zoom's last frames
    change the scale in its fifth digit: a view read as it settles is the same view."""
    transform = page.locator(".react-flow__viewport").evaluate("e => e.style.transform")
    return [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", transform)]


def test_it_keeps_the_graph_and_fields_through_save_and_reload(
    page: Page, alice, alice_client: Client
):
    team = make_team(
        alice, {"name": "Desk", "pattern": "supervisor", "nodes": [], "edges": []}, draft=True
    )
    open_builder(page, team.pk)

    # Drag a supervisor and three workers onto the canvas, naming each as it lands.
    names = ["Supervisor", "Worker A", "Worker B", "Worker C"]
    spots = [(360, 80), (120, 330), (360, 330), (600, 330)]
    for i, (name, (x, y)) in enumerate(zip(names, spots, strict=True), start=1):
        drop_from_palette(page, "agent", x, y)
        expect(node(page, f"agent-{i}")).to_be_visible()
        page.get_by_test_id("field-name").fill(name)
    for worker in ("agent-2", "agent-3", "agent-4"):
        connect(page, "agent-1", worker)
    expect(page.locator(".react-flow__edge")).to_have_count(3)

    # Give Worker B a tool and an output schema; the JSON editor refuses bad JSON as you type.
    node(page, "agent-3").click()
    give_tool(page, "calculator")
    schema = page.get_by_test_id("field-output-schema")
    schema.fill('{"type": ')
    expect(page.get_by_role("alert")).to_contain_text("Not valid JSON yet")
    schema.fill(json.dumps(OUTPUT_SCHEMA))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(node(page, "agent-3")).to_contain_text("calculator")
    # Zoom out: the view is saved with the team, too.
    page.get_by_role("button", name="zoom out").click()
    wait_until_still(page)
    view = viewport_transform(page)
    save(page)
    save_doc_screenshot(page, "builder-supervisor")

    # Reload: the same graph and fields come back.
    page.reload()
    wait_until_still(page)
    assert viewport_transform(page) == pytest.approx(view, abs=1e-3, rel=1e-3)
    for i, name in enumerate(names, start=1):
        expect(node(page, f"agent-{i}")).to_contain_text(name)
    expect(node(page, "agent-1")).to_contain_text("entry")
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    node(page, "agent-3").click()
    expect(page.get_by_test_id("field-name")).to_have_value("Worker B")
    assert json.loads(page.get_by_test_id("field-output-schema").inner_text()) == OUTPUT_SCHEMA

    # The saved spec read through the API matches what was drawn.
    spec = alice_client.get(f"/api/teams/{team.pk}").json()["spec"]
    assert spec["entry"] == "agent-1"
    assert [n["name"] for n in spec["nodes"]] == names
    assert {(e["source"], e["target"], e["kind"]) for e in spec["edges"]} == {
        ("agent-1", "agent-2", "delegates"),
        ("agent-1", "agent-3", "delegates"),
        ("agent-1", "agent-4", "delegates"),
    }
    worker_b = spec["nodes"][2]
    assert worker_b["tools"] == ["calculator"]
    assert worker_b["output_schema"] == OUTPUT_SCHEMA
    assert spec["layout"]["viewport"]["zoom"] < 1
    assert set(spec["layout"]["positions"]) == {"agent-1", "agent-2", "agent-3", "agent-4"}
    # Workers were dropped below the supervisor, and stay there.
    positions = spec["layout"]["positions"]
    assert all(
        positions[w]["y"] > positions["agent-1"]["y"] for w in ("agent-2", "agent-3", "agent-4")
    )
