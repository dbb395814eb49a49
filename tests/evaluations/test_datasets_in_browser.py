"""In a real Chromium, the whole loop a person goes through: two finished runs added to a new
dataset from their run pages, a bad upload refused with its lines named, an experiment
started from the dataset page and watched until every item is scored, a second one, and
the comparison of the two with its charts."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from evaluations.models import Dataset, Experiment
from tests.factories import make_ended_run, make_team

pytestmark = pytest.mark.browser


def shots(page: Page, name: str) -> None:
    """With SHOTS_DIR set, the page at 1280x720 and at 390x844 (to look at, not to assert on)."""
    if folder := os.environ.get("SHOTS_DIR"):
        page.screenshot(path=Path(folder) / f"{name}-1280.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=Path(folder) / f"{name}-390.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 720})


def add_to_dataset(page: Page, run_id: str, new_name: str | None = None) -> None:
    page.goto(f"/runs/{run_id}/")
    page.get_by_role("button", name="Add to dataset…").click()
    form = page.get_by_role("dialog", name="Add the run to a dataset")
    if new_name is not None:
        form.locator("select").select_option(label="A new dataset…")
        form.get_by_label("Name of the new dataset").fill(new_name)
    else:
        expect(form.locator("select")).to_have_value(str(Dataset.objects.get().pk))
    if new_name is not None:
        shots(page, "run-add-to-dataset")
    form.get_by_role("button", name="Add the run").click()
    expect(page.get_by_test_id("added-to-dataset")).to_contain_text("Added to From runs")


def start_experiment(page: Page, dataset: Dataset, shot: bool = False) -> int:
    page.goto(f"/datasets/{dataset.pk}/")
    page.get_by_role("link", name="Start an experiment…").click()
    page.get_by_label("Concurrency").fill("1")
    page.get_by_role("checkbox", name="Contains a text", exact=True).check()
    page.locator("#scorer-contains").get_by_label("Text", exact=True).fill("received a request")
    if shot:
        shots(page, "experiment-new")
    page.get_by_role("button", name="Start the experiment").click()
    expect(page.locator("h1")).to_contain_text("on From runs v2")
    return Experiment.objects.latest("id").pk


def test_runs_become_a_dataset_an_experiment_and_a_comparison(page: Page) -> None:
    alice = page.user
    team = make_team(alice)
    runs = [
        make_ended_run(alice, events=2, days_ago=0, team=team, team_version=team.current_version(),
                       input={"task": task}, output=f"answer to {task}")
        for task in ("refund policy", "shipping times")
    ]  # fmt: skip

    # The first run goes into a new dataset, the second into that one.
    add_to_dataset(page, str(runs[0].id), new_name="From runs")
    add_to_dataset(page, str(runs[1].id))
    dataset = Dataset.objects.get()
    assert [i.source_run_id for i in dataset.items_at()] == [r.id for r in runs]

    page.goto("/datasets/")
    expect(page.locator("#datasets")).to_contain_text("From runs")
    shots(page, "dataset-list")
    page.get_by_role("link", name="From runs").click()
    expect(page.locator("#dataset-figures")).to_contain_text("2 items in version 2")
    expect(page.locator("#items")).to_contain_text("answer to refund policy")

    # A file with a bad line adds nothing, and the page names the line.
    page.get_by_label("JSON Lines or CSV file").set_input_files(
        files=[{"name": "cases.jsonl", "mimeType": "application/x-ndjson",
                "buffer": b'{"input": {"task": "ok"}}\n{"expected": "no input"}\n'}]
    )  # fmt: skip
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#upload-problems")).to_contain_text("Line 2: input: Field required")
    expect(page.locator("#dataset-figures")).to_contain_text("2 items in version 2")
    shots(page, "dataset-detail")

    # An experiment from the dataset page; its page shows the progress until the end.
    first = start_experiment(page, dataset, shot=True)
    expect(page.locator("#progress")).to_have_attribute("max", "2")
    expect(page.locator("#progress")).to_have_attribute("value", "2", timeout=90_000)
    expect(page.get_by_text("2 of 2 items scored")).to_be_visible()
    expect(page.locator("#summary")).to_contain_text("contains")
    second = start_experiment(page, dataset)
    expect(page.get_by_text("2 of 2 items scored")).to_be_visible(timeout=90_000)
    shots(page, "datasets-experiment")

    # The comparison, reached from the second experiment's page, draws its charts.
    page.get_by_role("link", name=f"experiment {first} (v1)").click()
    expect(page).to_have_url(f"/experiments/compare/{first}/{second}/")
    expect(page.locator("#verdict")).to_contain_text("2 shared items")
    for scorer in ("exact", "contains"):
        chart = page.get_by_test_id(f"histogram-{scorer}")
        expect(chart).to_be_visible()
        expect(chart.locator("rect.bar-b")).to_have_count(10)
    scatter = page.get_by_test_id("cost-scatter")
    expect(scatter.locator("circle.point-a")).to_have_count(2)
    expect(scatter.locator("rect.point-b")).to_have_count(2)
    # Every output contains the text (case aside): both sides' bars stand in the last bin.
    last = page.get_by_test_id("histogram-contains").locator("rect.bar-b").nth(9)
    expect(last.locator("title")).to_have_text(f"Experiment {second}, 0.9\u20131.0: 2")
    shots(page, "datasets-compare")
