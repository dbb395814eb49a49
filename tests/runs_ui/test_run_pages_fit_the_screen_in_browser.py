"""Every run page works at 1280x720 and on a 390px-wide phone in a real Chromium, on a run
with a realistic trail.

With DOCS_SCREENSHOTS=1 the pages are also saved to docs/screenshots/ for the docs.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.factories import append_event, make_run, make_team, minimal_spec, sign_head

pytestmark = pytest.mark.browser

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def supervisor_run(owner) -> Run:
    """A finished supervisor run: a planner delegating to a researcher who calls a tool."""
    start = timezone.now() - timedelta(minutes=5)
    team = make_team(owner, minimal_spec(name="Market research"))
    names = [{"kind": "agent", "id": "planner", "name": "Research planner"},
             {"kind": "agent", "id": "researcher", "name": "Market researcher"}]  # fmt: skip
    run = make_run(
        owner, team, team_name=team.name, status=Run.Status.SUCCEEDED,
        spec={"name": team.name, "pattern": "supervisor", "nodes": names},
        started_at=start, finished_at=start + timedelta(seconds=9),
        input_tokens=1840, output_tokens=612, cost_usd=Decimal("0.0142"),
        output="Prices rose 4% in the quarter; the full table is attached.",
    )  # fmt: skip

    def at(seconds: float) -> dict:
        return {"ts": start + timedelta(seconds=seconds)}

    append_event(run, "run.started", payload={"input": run.input}, **at(0))
    append_event(
        run,
        "agent.started",
        "planner",
        span_id="p",
        payload={"task": "Plan the research"},
        **at(0.1),
    )
    append_event(
        run,
        "turn.started",
        "planner",
        span_id="p1",
        parent_span_id="p",
        payload={"turn": 1},
        **at(0.2),
    )
    append_event(
        run,
        "delegation",
        "planner",
        span_id="p1",
        payload={"to": "researcher", "task": "Find Q3 prices"},
        **at(1),
    )
    append_event(
        run,
        "agent.started",
        "researcher",
        span_id="r",
        parent_span_id="p1",
        payload={"task": "Find Q3 prices"},
        **at(1.1),
    )
    append_event(
        run,
        "turn.started",
        "researcher",
        span_id="r1",
        parent_span_id="r",
        payload={"turn": 1},
        **at(1.2),
    )
    append_event(
        run,
        "tool.call",
        "researcher",
        payload={"tool": "sql", "arguments": {"query": "select * from prices"}, "call_id": "c1"},
        **at(2),
    )
    append_event(
        run,
        "retry",
        "researcher",
        payload={"attempt": 2, "error": "429 Too Many Requests", "delay_s": 1.5},
        **at(2.5),
    )
    append_event(
        run,
        "tool.result",
        "researcher",
        payload={"tool": "sql", "call_id": "c1", "ok": True, "result": [["Q3", 1.04]]},
        **at(4),
    )
    append_event(
        run,
        "message",
        "researcher",
        span_id="r1",
        payload={
            "role": "assistant",
            "simulated": True,
            "content": "**Q3 prices rose 4%**, led by:\n\n- energy (+9%)\n- food (+3%)",
        },
        **at(5),
    )
    append_event(
        run,
        "usage",
        "researcher",
        payload={"input_tokens": 900, "output_tokens": 300, "cost_usd": 0.007},
        **at(5),
    )
    append_event(
        run, "agent.finished", "researcher", span_id="r", payload={"status": "ok"}, **at(5.2)
    )
    append_event(
        run,
        "turn.started",
        "planner",
        span_id="p2",
        parent_span_id="p",
        payload={"turn": 2},
        **at(5.5),
    )
    append_event(
        run,
        "message",
        "planner",
        span_id="p2",
        payload={"role": "assistant", "content": run.output, "simulated": True},
        **at(8.5),
    )
    append_event(
        run,
        "usage",
        "planner",
        payload={"input_tokens": 940, "output_tokens": 312, "cost_usd": 0.0072},
        **at(8.5),
    )
    append_event(run, "agent.finished", "planner", span_id="p", payload={"status": "ok"}, **at(8.8))
    append_event(run, "run.finished", payload={"output": run.output}, **at(9))
    sign_head(run)
    return run


def fits_the_screen(page: Page, name: str) -> None:
    """Nothing on the page reaches past the window, on a desktop and on a phone (wide tables
    scroll inside their box), and every button and link on it can be reached. With
    DOCS_SCREENSHOTS=1, ``docs/screenshots/<name>.png`` (1280x720) and ``<name>-phone.png``
    (390x844) are saved."""
    for window, height, suffix in ((390, 844, "-phone"), (1280, 720, "")):
        page.set_viewport_size({"width": window, "height": height})
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= window, f"the {name} page is {width}px wide at a {window}px window"
        if os.environ.get("DOCS_SCREENSHOTS"):
            DOCS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=DOCS / f"{name}{suffix}.png")


def phone_cards(page: Page, table: str) -> None:
    """On a phone a table's rows are cards: no sideways scrolling, each value labelled."""
    page.set_viewport_size({"width": 390, "height": 844})
    box = page.locator(table).bounding_box()
    assert box is not None and box["width"] <= 390
    first = page.locator(f"{table} tbody tr").first
    assert first.evaluate("row => getComputedStyle(row).display") == "block"
    page.set_viewport_size({"width": 1280, "height": 720})


def test_the_run_page_draws_a_finished_run(page: Page) -> None:
    run = supervisor_run(page.user)
    page.goto(f"/runs/{run.id}/")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("run-elapsed")).to_have_text("9.0 s")
    expect(page.locator(".lane")).to_have_count(2)
    expect(page.locator(".simulated")).to_be_visible()
    page.locator('.lane[data-agent="researcher"] .marker-retry').click()
    expect(page.get_by_role("complementary", name="Details")).to_contain_text(
        "429 Too Many Requests"
    )
    fits_the_screen(page, "run")


def test_the_runs_list_audit_trail_and_dashboard_fit(page: Page) -> None:
    run = supervisor_run(page.user)
    page.goto("/runs/")
    expect(page.get_by_role("link", name="Audit trail")).to_be_visible()
    phone_cards(page, "table.runs")
    fits_the_screen(page, "runs")

    page.goto(f"/runs/{run.id}/audit/")
    expect(page.locator("table.audit tbody tr")).to_have_count(17)
    expect(page.locator("#verification")).to_have_text(
        "Hash chain verified: all 17 events are intact, and the run's signed head vouches "
        "that none was rewritten, removed or added since it stopped."
    )
    page.get_by_label("Agent").select_option("researcher")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit tbody tr")).to_have_count(8)
    phone_cards(page, "table.audit")
    fits_the_screen(page, "audit")

    page.goto("/dashboard/")
    expect(page.locator('[data-figure="success-rate"]')).to_have_text("100%")
    expect(page.locator("table.slowest")).to_contain_text("planner")
    fits_the_screen(page, "dashboard")


def test_time_travel_and_the_inbox_fit(page: Page) -> None:
    run = supervisor_run(page.user)
    page.goto(f"/runs/{run.id}/")
    page.get_by_role("button", name="Replay step by step").click()
    page.get_by_label("Event", exact=True).fill("9")
    expect(page.get_by_test_id("replay-where")).to_contain_text("Event 9 of 17")
    fits_the_screen(page, "run-replay")

    waiting = make_run(page.user, status=Run.Status.WAITING, team_name="Refunds", waiting_for="k")
    append_event(waiting, "human.requested", "approver",
                 payload={"activity_key": "k", "prompt": "Approve the refund of 40 EUR to Ada?"})  # fmt: skip
    page.goto("/inbox/")
    expect(page.get_by_role("link", name="Answer")).to_be_visible()
    fits_the_screen(page, "inbox")
