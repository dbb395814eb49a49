"""Cancelling in the browser a run whose model is slow ends it as cancelled, on the page and
in the trail, without waiting for the model."""

import pytest
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.browser import LiveServer, log_in
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in, start
from tests.support.openai_server import Reply, ScriptedOpenAIServer

from .conftest import until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_cancelling_in_the_browser_ends_a_slow_run(
    page: Page, asgi_server: LiveServer, model_server: ScriptedOpenAIServer
) -> None:
    model_server.on(lambda r: True, Reply.text("too late", delay_s=60))
    erin = make_user("erin")
    log_in(page, erin, asgi_server)
    make_model_config(erin, model_server.base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    team = make_team(erin, minimal_spec(nodes=[lead]))

    run_id = start(logged_in(erin), team.pk, "take your time")
    page.goto(f"/runs/{run_id}/")
    expect(page.get_by_test_id("run-status")).to_have_text("running", timeout=30_000)
    # The model call is in flight when the person cancels.
    expect(page.locator(".feed-message").first).to_be_visible()
    until(lambda: len(model_server.log) == 1)
    page.get_by_role("button", name="Cancel run").click()

    expect(page.get_by_test_id("run-status")).to_have_text("cancelled", timeout=15_000)
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    run = Run.objects.get(id=run_id)
    assert run.status == Run.Status.CANCELLED
    assert run.events.order_by("seq").last().type == "run.cancelled"
    assert model_server.completed() == []
