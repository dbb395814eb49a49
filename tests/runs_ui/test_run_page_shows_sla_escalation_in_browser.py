"""In a real Chromium: a run that passed its service level and was escalated to a person says
so on the run page, in words, on the feed and on the timeline."""

import os
import re

import pytest
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.factories import append_event, make_run

pytestmark = pytest.mark.browser

SPEC = {
    "name": "Support triage",
    "pattern": "swarm",
    "entry": "intake",
    "nodes": [
        {"kind": "agent", "id": "billing", "name": "Billing"},
        {"kind": "human", "id": "support_lead", "name": "Support lead"},
    ],
}
TICKET = {"subject": "Charged twice", "priority": "urgent", "sla": {"urgent": 900}}


def escalated_run(owner) -> Run:
    run = make_run(owner, status=Run.Status.WAITING, spec=SPEC, input=TICKET,
                   team_name="Support triage", waiting_for="run/@escalation/human")  # fmt: skip
    append_event(run, "run.started", payload={"input": TICKET, "team": "Support triage"})
    append_event(
        run,
        "agent.started",
        "billing",
        span_id="b1",
        payload={"task": None, "path": "run/h1-billing"},
    )
    breach = {"priority": "urgent", "deadline_s": 900.0, "elapsed_s": 900.02}
    append_event(run, "sla.breached", payload=breach)
    append_event(run, "sla.escalated", payload={
        **breach, "hand_to": "support_lead", "hand_to_name": "Support lead",
        "raised_priority": None, "notify_webhooks": True,
    })  # fmt: skip
    task = {"escalated": "The urgent service level (900 s) passed.", "input": TICKET}
    append_event(
        run,
        "agent.started",
        "support_lead",
        span_id="s1",
        payload={"task": task, "path": "run/@escalation"},
    )
    append_event(run, "human.requested", "support_lead", span_id="s1", payload={
        "activity_key": "run/@escalation/human", "node": "support_lead", "kind": "human",
        "prompt": "A customer needs a person.", "answer_schema": None, "task": task,
    })  # fmt: skip
    return run


@pytest.mark.parametrize("viewport", [(1280, 720), (390, 844)], ids=["desktop", "phone"])
def test_the_run_page_says_the_sla_passed_and_who_took_over(page: Page, viewport, request) -> None:
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    run = escalated_run(page.user)

    page.goto(f"/runs/{run.id}/")

    breached = page.locator(".feed-note", has_text="Service level passed")
    expect(breached).to_contain_text("urgent work is due within 900.0 s, 900.0 s have gone by")
    escalated = page.locator(".feed-note", has_text="Escalated (")
    expect(escalated).to_contain_text(
        "Escalated (urgent service level): handed to Support lead, webhooks notified"
    )
    timeline = page.get_by_role("group", name="Timeline")
    expect(
        timeline.get_by_role("button", name=re.compile(r"handed to Support lead"))
    ).to_have_count(1)
    if folder := os.environ.get("SHOTS_DIR"):
        page.screenshot(
            path=f"{folder}/run-sla-escalated-{request.node.callspec.id}.png", full_page=True
        )
