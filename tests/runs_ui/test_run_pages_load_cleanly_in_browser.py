"""The pages a person moves between load without a failed request or a script error (the tab's
icon included), and a long message feed keeps its heading in view while it follows the run."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from runs.models import Run
from tests.factories import append_event, make_run, make_team, minimal_spec

pytestmark = pytest.mark.browser


def long_run(owner) -> Run:
    """A finished run whose feed is far longer than its box: 40 messages."""
    start = timezone.now() - timedelta(minutes=2)
    team = make_team(owner, minimal_spec(name="Chatty team"))
    run = make_run(
        owner, team, status=Run.Status.SUCCEEDED, started_at=start,
        finished_at=start + timedelta(seconds=50), output="Done.",
    )  # fmt: skip
    append_event(run, "run.started", payload={"input": run.input}, ts=start)
    for n in range(40):
        append_event(
            run, "message", "writer", span_id=f"s{n}",
            payload={"role": "assistant", "content": f"Paragraph {n} of the draft."},
            ts=start + timedelta(seconds=n),
        )  # fmt: skip
    append_event(run, "run.finished", payload={"output": "Done."}, ts=start + timedelta(seconds=50))
    return run


def test_every_page_loads_without_an_error(page: Page) -> None:
    run = long_run(page.user)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    for path in ("/teams/", "/templates/", "/runs/", f"/runs/{run.id}/",
                 f"/runs/{run.id}/audit/", "/dashboard/", "/settings/tokens/"):  # fmt: skip
        page.goto(path)
        page.wait_for_load_state("networkidle")
    assert errors == []
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon and page.request.get(icon).ok


def test_the_feeds_heading_stays_in_view_as_it_follows_the_run(page: Page) -> None:
    run = long_run(page.user)
    page.goto(f"/runs/{run.id}/")
    feed = page.get_by_test_id("feed")
    expect(feed).to_contain_text("Paragraph 39 of the draft.")
    # The feed follows the newest message, so it is scrolled to its end...
    assert feed.evaluate("el => el.scrollTop") > 0
    # ...and its heading is still at the top of its box, not scrolled away with the start.
    heading, box = feed.get_by_role("heading", name="Messages").bounding_box(), feed.bounding_box()
    assert heading is not None and box is not None
    assert box["y"] <= heading["y"] <= box["y"] + 2
    expect(feed.get_by_role("heading", name="Messages")).to_be_in_viewport()
