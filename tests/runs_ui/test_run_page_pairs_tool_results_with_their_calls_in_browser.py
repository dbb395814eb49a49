"""Every tool call on the run page shows its own result. The offline model numbers its calls per
turn, so every agent's first call is "offline_0_0" (some OpenAI-compatible servers reuse ids
too): the page pairs a result with its call by the engine's activity key, never by that id. Real
runs of the shipped templates and of a team built from scratch, on the offline model."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from runs.models import Run, RunEvent
from runs.views import agent_names
from tests.browser import LiveServer, log_in
from tests.factories import install_templates, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def calculating_team() -> dict[str, Any]:
    """A lead delegating to two workers whose calculator calls share the provider's id; one
    of them divides by zero."""
    worker = {"kind": "agent", "model": "offline", "tools": ["calculator"]}
    return minimal_spec(
        name="Two calculators",
        nodes=[
            {"kind": "agent", "id": "lead", "name": "Lead", "model": "offline"},
            {
                **worker,
                "id": "good",
                "name": "Good sums",
                "instructions": "calculator.expression: 6*7",
            },
            {
                **worker,
                "id": "bad",
                "name": "Bad sums",
                "instructions": "calculator.expression: 1/0",
            },
        ],
        edges=[
            {"id": "e1", "source": "lead", "target": "good", "kind": "delegates"},
            {"id": "e2", "source": "lead", "target": "bad", "kind": "delegates"},
        ],
    )


def scalars(value: Any) -> list[str]:
    """Each key and scalar of a JSON value as the page's tree writes it."""
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [f"{k}: ", *scalars(v)]]
    if isinstance(value, list):
        return [s for v in value for s in scalars(v)]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JavaScript writes 39450.0 as 39450
    return [json.dumps(value, ensure_ascii=False)]


def assert_shows(box: Any, value: Any) -> None:
    """The page writes text as it is and JSON (or text holding JSON) as a tree."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            expect(box).to_have_text(value)
            return
    expect(box).not_to_be_empty()
    text = box.text_content()
    for part in scalars(value):
        assert part in text, f"{part!r} is not in the result shown: {text[:300]!r}"


def assert_each_call_shows_its_own_result(page: Page, run_id: str) -> None:
    events = RunEvent.objects.filter(run_id=run_id, type__in=["tool.call", "tool.result"])
    calls = [e for e in events.order_by("seq") if e.type == "tool.call"]
    results = {e.payload["activity_key"]: e.payload for e in events if e.type == "tool.result"}
    ids = {c.payload["call_id"] for c in calls}
    assert len(ids) < len(calls), "the provider's ids are expected to repeat in these runs"

    names = agent_names(Run.objects.get(id=run_id).spec)
    items = page.locator("details.feed-tool")
    expect(items).to_have_count(len(calls))
    expect(page.get_by_test_id("feed")).not_to_contain_text("running…")
    for item, call in zip(items.all(), calls, strict=True):
        result = results[call.payload["activity_key"]]
        state = "done" if result["ok"] else "failed"
        summary = f"{names[call.agent]} called {call.payload['tool']} {state}"
        head = item.locator(":scope > summary")
        expect(head).to_have_text(re.compile(rf"^{re.escape(summary)} in \S+"))
        head.click()
        expected = result["result"] if result["ok"] else result["error"]
        assert_shows(item.get_by_test_id("tool-result"), expected)
        head.click()


@pytest.mark.parametrize("slug", ["code-review", "monthly-close"])
def test_a_templates_tool_calls_each_show_their_own_result(
    page: Page, asgi_server: LiveServer, settings: Any, tmp_path: Path, slug: str
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    install_templates()
    erin = make_user("erin")
    log_in(page, erin, asgi_server)
    made = logged_in(erin).post(f"/api/templates/{slug}/instantiate")
    assert made.status_code == 201, made.content
    sample = json.loads((ROOT / f"teams/team_templates/{slug}/input.json").read_text())

    run_id = start(logged_in(erin), made.json()["id"], sample)
    page.goto(f"/runs/{run_id}/")

    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=60_000)
    assert_each_call_shows_its_own_result(page, run_id)


def test_a_failed_calculator_call_shows_failed_next_to_one_that_worked(
    page: Page, asgi_server: LiveServer
) -> None:
    erin = make_user("erin")
    log_in(page, erin, asgi_server)
    team = make_team(erin, calculating_team())

    run_id = start(logged_in(erin), team.pk, "Work it out.")
    page.goto(f"/runs/{run_id}/")

    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=60_000)
    assert_each_call_shows_its_own_result(page, run_id)
    bad = page.locator("details.feed-tool", has_text="Bad sums called calculator")
    expect(bad.locator(":scope > summary")).to_contain_text("failed")
    bad.locator(":scope > summary").click()
    expect(bad).to_contain_text("Division by zero.")
    # The timeline agrees: the failed call's marker says so, the good one's does not.
    timeline = page.get_by_role("group", name="Timeline")
    expect(timeline.locator('.lane[data-agent="bad"] .marker-tool')).to_have_attribute(
        "aria-label", "tool calculator (failed)"
    )
    expect(timeline.locator('.lane[data-agent="good"] .marker-tool')).to_have_attribute(
        "aria-label", "tool calculator"
    )
