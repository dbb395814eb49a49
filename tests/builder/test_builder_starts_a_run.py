"""Starting a run from the builder opens the run's live page."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_team, supervisor_spec

from .canvas import open_builder

pytestmark = pytest.mark.browser

INPUT_SCHEMA = {
    "type": "object",
    "required": ["topic"],
    "properties": {"topic": {"type": "string", "title": "Topic", "maxLength": 100}},
}


def test_it_starts_a_run_from_the_input_form_and_opens_its_live_page(
    page: Page, alice, alice_client
):
    team = make_team(alice, supervisor_spec(input_schema=INPUT_SCHEMA))
    open_builder(page, team.pk)

    # The form is generated from the input schema and says what is missing.
    page.get_by_role("button", name="Run the team").click()
    page.get_by_role("button", name="Start run").click()
    expect(page.get_by_test_id("run-dialog").get_by_role("alert")).to_have_text(
        "Topic is required."
    )
    page.get_by_label("Topic").fill("tides")
    page.get_by_role("button", name="Start run").click()

    # The run page opens and its events arrive live.
    expect(page).to_have_url(re.compile(r"/runs/[0-9a-f-]{36}/$"))
    run_id = page.url.rstrip("/").rsplit("/", 1)[1]
    run = alice_client.get(f"/api/runs/{run_id}").json()
    assert run["team_id"] == team.pk
    assert run["input"] == {"topic": "tides"}
    # Events arrive over the websocket without a reload: the timeline fills in.
    expect(page.get_by_role("group", name="Timeline").get_by_role("button").first).to_be_visible()
    assert alice_client.get(f"/api/runs/{run_id}").json()["last_seq"] >= 1
    # The offline model carries the run through to its end, live on the page.
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=30_000)
    assert alice_client.get(f"/api/runs/{run_id}").json()["failure_reason"] in ("", None)
