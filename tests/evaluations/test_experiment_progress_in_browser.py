"""In a real Chromium: a running experiment's page follows its progress over the websocket,
the bar moving and reaching 100 % with no reload, the summary and the table brought up to
date at the end; where the socket cannot connect the page reloads itself as before."""

import json

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from evaluations import actions, tasks
from evaluations.models import Dataset
from evaluations.scorers import SPECS
from tests.evaluations.test_experiment_pages_in_browser import shot
from tests.factories import make_team

pytestmark = pytest.mark.browser

ITEMS = 8


def started_experiment(alice: object, items: int = ITEMS, advance: bool = True) -> int:
    """Alice's experiment of ``items`` cases on the offline model, one at a time; with
    ``advance`` false, nothing moves it until ``tasks.advance_soon``."""
    client = Client()
    client.force_login(alice)
    team = make_team(alice)
    cases = [{"input": {"task": f"case {i}"}, "expected": f"case {i}"} for i in range(items)]
    dataset = client.post(
        "/api/datasets", json.dumps({"name": "Cases", "items": cases}), "application/json"
    ).json()
    body = {"team_id": team.id, "dataset_id": dataset["id"], "concurrency": 1,
            "scorers": [{"kind": "contains", "name": "echoes"}]}  # fmt: skip
    if not advance:
        specs = SPECS.validate_python(body["scorers"])
        version, dataset_row = team.current_version(), Dataset.objects.get(pk=dataset["id"])
        return actions.do_start_experiment(alice, version, dataset_row, specs, 1).pk
    started = client.post("/api/experiments", json.dumps(body), "application/json")
    assert started.status_code == 201, started.content
    return started.json()["id"]


# Every value the bar takes, and whether the document is the one first loaded.
WATCH_THE_BAR = """() => {
  window.firstDocument = true;
  window.barValues = [document.getElementById("progress").value];
  new MutationObserver(() => window.barValues.push(document.getElementById("progress").value))
    .observe(document.getElementById("progress"), { attributes: true });
}"""


def test_the_bar_moves_to_the_end_without_a_reload(page: Page) -> None:
    experiment_id = started_experiment(page.user)
    navigations: list[str] = []
    page.goto(f"/experiments/{experiment_id}/")
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.evaluate(WATCH_THE_BAR)

    # The bar reaches the end on its own, through values in between.
    expect(page.locator("#progress")).to_have_attribute("value", str(ITEMS), timeout=90_000)
    expect(page.locator("#percent")).to_have_text("100 %")
    expect(page.locator("#scored")).to_have_text(f"{ITEMS} of {ITEMS} items scored")
    expect(page.locator("#experiment-status")).to_have_text("Finished")
    values = page.evaluate("window.barValues")
    assert any(0 < v < ITEMS for v in values), values
    assert values == sorted(values)

    # The summary has its interval, and the table every scored item, all without a reload.
    expect(page.locator("#summary tr[data-scorer='echoes'] td").nth(1)).to_have_text("1.000")
    expect(page.locator("#summary tr[data-scorer='echoes'] td").nth(2)).to_have_text(
        "1.000 \u2013 1.000"
    )
    expect(page.locator("#items tbody tr", has_text="Scored")).to_have_count(ITEMS)
    expect(page.locator("#new-results")).to_be_hidden()
    assert navigations == [] and page.evaluate("window.firstDocument") is True
    shot(page, "experiment-live-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "experiment-live-390.png")


def test_new_results_are_offered_while_it_runs_and_shown_in_place(page: Page) -> None:
    experiment_id = started_experiment(page.user, items=30)
    page.goto(f"/experiments/{experiment_id}/")
    page.evaluate("() => { window.firstDocument = true; }")

    # Items are scored after the page was drawn: it offers them, and shows them in place.
    expect(page.locator("#new-results")).to_be_visible(timeout=60_000)
    expect(page.locator("#new-results-count")).to_contain_text("new result")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "experiment-running-390.png")
    page.set_viewport_size({"width": 1280, "height": 720})
    shot(page, "experiment-running-1280.png")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#items tbody tr", has_text="Scored").first).to_be_visible()
    assert page.evaluate("window.firstDocument") is True


def test_without_a_socket_the_page_reloads_itself_as_before(page: Page) -> None:
    # A browser (or a proxy) where the websocket never connects.
    page.add_init_script(
        """window.WebSocket = class {
             constructor() { setTimeout(() => this.onclose && this.onclose({ code: 1006 }), 50); }
             send() {}
             close() {}
           };"""
    )
    experiment_id = started_experiment(page.user, items=3, advance=False)
    page.goto(f"/experiments/{experiment_id}/")
    expect(page.locator("#live-note")).to_contain_text("reloads every few seconds")
    with page.expect_navigation(timeout=10_000):
        pass  # the reload
    tasks.advance_soon(experiment_id)
    expect(page.locator("#progress")).to_have_attribute("value", "3", timeout=90_000)
    expect(page.locator("#scored")).to_have_text("3 of 3 items scored")
