"""The first retry of a call is "Retry 1", on the feed and on the timeline: the engine's retry
event carries the attempt about to be made (2 for the first retry)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from runs.models import Run
from tests.factories import append_event, make_run

pytestmark = pytest.mark.browser


def test_the_first_retry_is_retry_1(page: Page) -> None:
    run = make_run(page.user, status=Run.Status.SUCCEEDED)
    start = timezone.now() - timedelta(minutes=1)
    append_event(run, "agent.started", "writer", span_id="a1", payload={"task": "draft"}, ts=start)
    for attempt in (2, 3):
        append_event(
            run, "retry", "writer", span_id="t1", ts=start + timedelta(seconds=10 * attempt),
            payload={"activity_key": "run/writer/t1/model", "attempt": attempt,
                     "error": "HTTP 429", "delay_s": 0.5},
        )  # fmt: skip
    append_event(run, "run.finished", payload={"output": "ok"}, ts=start + timedelta(seconds=40))
    page.goto(f"/runs/{run.id}/")

    feed = page.get_by_test_id("feed")
    expect(feed.locator(".feed-note.warn")).to_have_text(
        ["Retry 1 in 0.5 s: HTTP 429", "Retry 2 in 0.5 s: HTTP 429"]
    )
    markers = page.locator('.lane[data-agent="writer"] .marker')
    expect(markers).to_have_count(2)
    assert [m.get_attribute("aria-label") for m in markers.all()] == ["retry 1", "retry 2"]
