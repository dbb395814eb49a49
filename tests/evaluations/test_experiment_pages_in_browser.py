"""In a real Chromium: a dataset made from two runs, an experiment over it whose page shows
its progress until every item is scored, and the comparison page of two experiments."""

import json
import os
import time
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from evaluations.models import Experiment
from tests.browser import fits_the_width
from tests.factories import make_ended_run, make_team

pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    """With SHOTS_DIR set, the page is also saved there (to look at, not to assert on)."""
    if folder := os.environ.get("SHOTS_DIR"):
        page.screenshot(path=Path(folder) / name, full_page=True)


def post(client: Client, url: str, body: object) -> dict:
    response = client.post(url, json.dumps(body), content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_experiment_is_watched_to_the_end_and_compared(page: Page) -> None:
    alice = page.user
    client = Client()
    client.force_login(alice)
    team = make_team(alice)
    runs = [
        make_ended_run(alice, events=2, days_ago=0, team=team, team_version=team.current_version(),
                       input={"task": task}, output=f"answer to {task}")
        for task in ("refund policy", "shipping times")
    ]  # fmt: skip
    dataset = post(client, "/api/datasets", {"name": "From runs"})
    post(
        client,
        f"/api/datasets/{dataset['id']}/items/from-runs",
        {"run_ids": [str(r.id) for r in runs]},
    )
    body = {"team_id": team.id, "dataset_id": dataset["id"], "concurrency": 1,
            "scorers": [{"kind": "contains", "name": "simulated", "text": "[simulated]"}, {"kind": "exact"}]}  # fmt: skip
    first = post(client, "/api/experiments", body)

    # The page shows progress, live over its websocket, until both items are scored.
    page.goto(f"/experiments/{first['id']}/")
    expect(page.locator("h1")).to_contain_text("on From runs v1")
    expect(page.locator("#progress")).to_have_attribute("max", "2")
    expect(page.locator("#progress")).to_have_attribute("value", "2", timeout=60_000)
    expect(page.get_by_text("2 of 2 items scored")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text("simulated")
    expect(page.locator("#items tbody tr")).to_have_count(2)
    expect(page.locator("#items")).to_contain_text("answer to refund policy")  # expected
    shot(page, "experiment-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    # On a phone each item is a card whose cells say what they are: nothing is cut sideways.
    assert fits_the_width(page, "#items")
    expect(page.locator("#items td[data-label=Expected]").first).to_contain_text("answer to")
    shot(page, "experiment-390.png")
    page.set_viewport_size({"width": 1280, "height": 720})

    second = post(client, "/api/experiments", body)
    deadline = time.monotonic() + 60
    while Experiment.objects.get(pk=second["id"]).status == "running":
        assert time.monotonic() < deadline
        time.sleep(0.3)
    page.goto(f"/experiments/compare/{first['id']}/{second['id']}/")
    expect(page.locator("#verdict")).to_contain_text("2 shared items")
    expect(page.locator("#verdict")).to_contain_text("0 regressed")
    expect(page.locator("#scorers")).to_contain_text("simulated")
    expect(page.locator("#results tbody tr")).to_have_count(2)
    shot(page, "compare-1280.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "compare-390.png")
