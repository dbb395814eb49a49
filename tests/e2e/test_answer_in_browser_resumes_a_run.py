"""A run that waits for a person shows the answer box on its page; answering there resumes
the run, which the page follows to "succeeded"."""

import pytest
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.browser import LiveServer, log_in
from tests.factories import approval_pipeline_spec, make_team, make_user
from tests.runs.helpers import logged_in, start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_answering_in_the_browser_resumes_the_run(page: Page, asgi_server: LiveServer) -> None:
    erin = make_user("erin")
    log_in(page, erin, asgi_server)
    team = make_team(erin, approval_pipeline_spec())

    run_id = start(logged_in(erin), team.pk, "a launch note")
    page.goto(f"/runs/{run_id}/")

    box = page.get_by_role("form", name="Answer")
    expect(box).to_contain_text("Approve the draft?", timeout=30_000)
    expect(page.get_by_test_id("run-status")).to_have_text("waiting")
    box.get_by_label("Answer", exact=True).fill("Ship it")
    box.get_by_role("button", name="Send answer").click()

    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=30_000)
    expect(box).to_have_count(0)
    run = Run.objects.get(id=run_id)
    types = list(run.events.values_list("type", flat=True))
    assert types.count("human.answered") == 1 and types[-1] == "run.finished"
