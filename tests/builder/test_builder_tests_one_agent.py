"""Testing one agent from the builder's side panel: the agent of the unsaved draft runs alone
with the input typed, and its turns and tool calls arrive in the panel; a draft the server
refuses to run says why in the panel."""

import pytest
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.factories import make_team

from .canvas import node, open_builder

pytestmark = pytest.mark.browser


def calculator_team(alice) -> int:
    calc = {"kind": "agent", "id": "calc", "name": "Calculator", "model": "offline",
            "instructions": "Compute.", "tools": ["calculator"]}  # fmt: skip
    return make_team(alice, {"pattern": "supervisor", "entry": "calc", "nodes": [calc],
                             "edges": []}).pk  # fmt: skip


def test_an_agent_of_the_unsaved_draft_is_tested_in_the_side_panel(page: Page, alice):
    team_id = calculator_team(alice)
    open_builder(page, team_id)
    node(page, "calc").click()

    # An edit that is not saved: the test runs the draft as it is on the canvas.
    page.get_by_test_id("field-instructions").fill("Compute it, carefully.")
    panel = page.get_by_test_id("node-test")
    panel.get_by_test_id("node-test-input").fill("6*7")
    panel.get_by_test_id("node-test-run").click()

    # Its turns and its tool call arrive in the panel, live.
    expect(panel.get_by_test_id("node-test-status")).to_contain_text("Finished", timeout=60_000)
    feed = panel.get_by_test_id("feed")
    expect(feed).to_contain_text("calculator")
    expect(feed).to_contain_text(
        "Report from 1 tool call"
    )  # the offline model reports what tools returned
    run = Run.objects.get(started_by="node-test:calc")
    assert run.spec["nodes"][0]["instructions"] == "Compute it, carefully."
    assert run.input == "6*7" and run.team_version is None


def test_a_refused_test_says_why_in_the_panel(page: Page, alice):
    calc = {"kind": "agent", "id": "calc", "name": "Calculator", "model": "gpt-nobody-has"}
    team_id = make_team(alice, {"pattern": "supervisor", "entry": "calc", "nodes": [calc],
                                "edges": []}, draft=True).pk  # fmt: skip
    open_builder(page, team_id)
    node(page, "calc").click()

    panel = page.get_by_test_id("node-test")
    panel.get_by_test_id("node-test-input").fill("hello")
    panel.get_by_test_id("node-test-run").click()

    expect(panel.get_by_role("alert")).to_contain_text("gpt-nobody-has")
    assert not Run.objects.exists()

    # On the offline model the same agent runs.
    panel.get_by_label("On the offline model (simulated, costs nothing)").check()
    panel.get_by_test_id("node-test-run").click()
    expect(panel.get_by_test_id("node-test-status")).to_contain_text("Finished", timeout=60_000)
