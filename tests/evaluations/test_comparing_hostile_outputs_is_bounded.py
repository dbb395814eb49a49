"""Outputs are what models wrote, and the comparison diffs each shared item's two outputs in
the request: difflib's matching grows faster than the square of the lines, so two outputs of
20,000 repetitive lines (well under a model answer's cap) took 65 s of the web process's CPU
for one item, and any viewer could ask again and again. Now each diff reads at most
``DIFF_MAX_LINES`` of each output, noting the cut, and a comparison's diffs read at most
``DIFF_BUDGET_LINES`` in all; the items past it say so."""

import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from evaluations import actions, comparison
from evaluations.models import Experiment, ExperimentItem
from evaluations.scorers import SPECS
from tests.factories import make_team

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]  # tests/conftest.py


def finished_with(owner: User, team: Any, dataset: Any, outputs: list[str]) -> Experiment:
    specs = SPECS.validate_python([{"kind": "exact"}])
    experiment = actions.do_start_experiment(owner, team.current_version(), dataset, specs, 1)
    for item, output in zip(experiment.items.order_by("item_id"), outputs, strict=True):
        item.status, item.output = ExperimentItem.Status.DONE, output
        item.scores = {"exact": {"score": 0.0, "reason": "differs"}}
        item.save()
    return experiment


def test_two_long_repetitive_outputs_are_compared_in_bounded_time(
    alice: User, alice_client: Client
) -> None:
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"n": 1})])
    # Two experiments whose model wrote 20,000 lines of x's, in two different orders.
    a = finished_with(alice, team, dataset, ["\n".join("x" * (i % 150) for i in range(20_000))])
    b = finished_with(alice, team, dataset, ["\n".join("x" * (i * 7 % 150) for i in range(20_000))])

    began = time.process_time()
    response = alice_client.get(f"/api/experiments/compare?a={a.pk}&b={b.pk}")
    spent = time.process_time() - began

    assert response.status_code == 200
    assert spent < 5, f"{spent:.1f} s of CPU"
    [result] = response.json()["results"]
    assert "19500 more lines, not compared" in result["diff"]


def test_items_past_the_budget_say_they_have_no_diff(
    alice: User, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(comparison, "DIFF_BUDGET_LINES", 10)
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"n": n}) for n in range(3)])
    a = finished_with(alice, team, dataset, ["one\ntwo\nthree"] * 3)
    b = finished_with(alice, team, dataset, ["one\n2\nthree"] * 3)

    results = alice_client.get(f"/api/experiments/compare?a={a.pk}&b={b.pk}").json()["results"]

    assert "+2" in results[0]["diff"]
    assert [r["diff"] for r in results[1:]] == [comparison.NO_DIFF] * 2
