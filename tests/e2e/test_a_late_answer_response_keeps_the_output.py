"""Newer run state is never overwritten by older. After a person answers a question, the run
goes on and ends, and the page learns that over the websocket; the answer's own HTTP response
(read while the run was still going: no output yet) may land after that. The Output panel
stays."""

from typing import Any

import pytest
from playwright.sync_api import Page, Response, Route, expect

from tests.browser import LiveServer, log_in
from tests.factories import approval_pipeline_spec, make_model_config, make_team, make_user
from tests.runs.helpers import logged_in, start, wait_for_status
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settle(page: Page, path_end: str) -> None:
    """Until the page has the response of its request to ``path_end`` and has drawn what
    follows from it (a couple of frames after the body arrived)."""
    page.wait_for_function(
        "(end) => performance.getEntriesByType('resource')"
        ".some((e) => e.name.endsWith(end) && e.responseEnd > 0)",
        arg=path_end,
    )
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() =>"
        " requestAnimationFrame(() => setTimeout(done, 100))))"
    )


def test_a_slow_answer_response_does_not_hide_the_output(
    page: Page, asgi_server: LiveServer, model_server: ScriptedOpenAIServer
) -> None:
    # The stage after the person takes a moment, so the answer's response is read mid-run.
    model_server.on(lambda r: "You are Publish" in r.system, Reply.text("Published.", delay_s=2))
    model_server.on(lambda r: True, Reply.text("A launch note draft."))
    erin = make_user("erin")
    log_in(page, erin, asgi_server)
    make_model_config(erin, model_server.base_url)
    team = make_team(erin, approval_pipeline_spec(model="scripted"))
    run_id = start(logged_in(erin), team.pk, "a launch note")
    page.goto(f"/runs/{run_id}/")

    # The answer reaches the server at once, but its response is held back.
    held: list[tuple[Route, Response]] = []

    def hold(route: Route) -> None:
        held.append((route, route.fetch()))

    page.route("**/api/runs/*/answer", hold)
    box = page.get_by_role("form", name="Answer")
    expect(box).to_contain_text("Approve the draft?", timeout=30_000)
    box.get_by_label("Answer", exact=True).fill("Ship it")
    box.get_by_role("button", name="Send answer").click()

    # The run ends, and the page shows it, while the answer's response is still on its way.
    finished: Any = wait_for_status(run_id, "succeeded", within_s=30)
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    output = page.get_by_test_id("run-output")
    expect(output).to_be_visible()
    stale = held[0][1].json()
    assert stale["status"] in ("queued", "running") and stale["output"] is None, stale

    # Now the stale response lands: the output stays.
    route, response = held[0]
    route.fulfill(response=response)
    settle(page, "/answer")
    expect(output).to_be_visible()
    expect(output).to_contain_text("Published.")
    assert finished.output == "Published."
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
