"""A person starts a run of a shipped template (monthly close, on the offline model) and
watches it on the run page until it succeeds; the chart it made shows inline as an image."""

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import LiveServer, log_in
from tests.factories import install_templates, make_user
from tests.runs.helpers import logged_in, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def test_a_monthly_close_run_succeeds_live_with_its_chart_inline(
    page: Page, asgi_server: LiveServer, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    install_templates()
    erin = make_user("erin")
    log_in(page, erin, asgi_server)
    made = logged_in(erin).post("/api/templates/monthly-close/instantiate")
    assert made.status_code == 201, made.content
    sample = json.loads((ROOT / "teams/team_templates/monthly-close/input.json").read_text())

    run_id = start(logged_in(erin), made.json()["id"], sample)
    page.goto(f"/runs/{run_id}/")

    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=60_000)
    expect(page.get_by_role("group", name="Timeline").get_by_role("button").first).to_be_visible()
    chart = page.get_by_role("region", name="Artifacts").get_by_role("img")
    expect(chart).to_have_count(1)
    chart.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete", arg=chart.element_handle())
    assert chart.evaluate("(img) => img.naturalWidth") > 0
