"""The experiment page's items table says where each case is in words ("Waiting",
"Running", "Judging", "Scored", "Run failed", "Cancelled"), as a badge like the runs' ones;
the API keeps its values."""

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from evaluations.models import Experiment, ExperimentItem
from tests.browser import shoot
from tests.evaluations.test_judges_outside_the_lock import judged_experiment
from tests.runs.helpers import logged_in

Status = ExperimentItem.Status


@pytest.mark.django_db
def test_it_shows_each_status_in_words_and_the_api_its_value() -> None:
    experiment = judged_experiment(6)
    items = list(experiment.items.all())
    # One case in each place: waiting, running, being judged, scored, run failed, cancelled.
    wanted = [(Status.PENDING, ""), (Status.STARTED, ""), (Status.SCORING, ""),
              (Status.DONE, "succeeded"), (Status.DONE, "failed"), (Status.CANCELLED, "")]  # fmt: skip
    for item, (status, run_status) in zip(items, wanted, strict=True):
        item.status, item.run_status = status, run_status
        item.save()
    client = logged_in(experiment.owner)

    page = client.get(f"/experiments/{experiment.pk}/").content.decode()
    table = page[page.index('<table id="items"') :]
    badges = re.findall(r'<span class="run-status run-status-(\w+)">([^<]+)</span>', table)
    assert badges == [
        ("queued", "Waiting"), ("running", "Running"), ("judging", "Judging"),
        ("succeeded", "Scored"), ("failed", "Run failed"), ("cancelled", "Cancelled"),
    ]  # fmt: skip
    assert not re.search(r">\s*(pending|started|scoring|done)\s*<", table)

    listed = client.get(f"/api/experiments/{experiment.pk}/items").json()
    assert [i["status"] for i in listed] == [
        "pending", "started", "scoring", "done", "done", "cancelled"
    ]  # fmt: skip


@pytest.mark.browser
def test_in_a_browser_an_item_being_judged_then_scored_says_so(page: Any) -> None:
    experiment = judged_experiment(3, page.user)
    first, second, third = experiment.items.all()
    ExperimentItem.objects.filter(pk=first.pk).update(
        status=Status.DONE, run_status="succeeded",
        scores={"exact": {"score": 1.0, "reason": "The output equals the expected text."},
                "judge": {"score": 0.0, "reason": "The judge could not be asked: an error in "
                          "the orchestrator stopped it (RuntimeError), 3 times. The "
                          "operator's log has the details."}},
    )  # fmt: skip
    ExperimentItem.objects.filter(pk=second.pk).update(status=Status.SCORING)
    page.goto(f"/experiments/{experiment.pk}/")
    badges = page.locator("#items .run-status")
    expect(badges).to_have_text(["Scored", "Judging", "Running"])
    shoot(page, "E-experiment-running")

    # It ends: every case scored, one after its run failed.
    ExperimentItem.objects.filter(pk__in=[second.pk, third.pk]).update(
        status=Status.DONE, run_status="succeeded"
    )
    ExperimentItem.objects.filter(pk=third.pk).update(run_status="failed")
    Experiment.objects.filter(pk=experiment.pk).update(status=Experiment.Status.FINISHED)
    page.reload()
    expect(badges).to_have_text(["Scored", "Scored", "Run failed"])
    shoot(page, "E-experiment-finished")
