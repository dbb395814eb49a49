"""An experiment keeps to its owner's cap on runs in flight: it starts as many items as the cap
leaves room for and the rest as places free up, rather than refusing every round (which left
an experiment wider than the cap with nothing started, for ever)."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from evaluations import actions
from evaluations.models import Experiment, ExperimentItem
from evaluations.scorers import SPECS
from runs.models import Run
from tests.factories import make_team

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]  # tests/conftest.py


def experiment_of(alice: User, items: int, concurrency: int) -> Experiment:
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"n": n}) for n in range(items)])
    specs = SPECS.validate_python([{"kind": "exact"}])
    return actions.do_start_experiment(alice, team.current_version(), dataset, specs, concurrency)


def started(experiment: Experiment) -> int:
    return experiment.items.filter(status=ExperimentItem.Status.STARTED).count()


def test_it_starts_what_the_cap_leaves_room_for(settings: Any, alice: User) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 3
    experiment = experiment_of(alice, 5, concurrency=4)
    # a run of alice's own is already in flight: two places are left
    Run.objects.create(owner=alice, team_name="other", spec={}, status=Run.Status.RUNNING)
    assert actions.do_advance(experiment.pk)
    assert started(experiment) == 2
    # her other run ends: the next step fills the place it left, up to the cap
    Run.objects.filter(team_name="other").update(status=Run.Status.SUCCEEDED)
    assert actions.do_advance(experiment.pk)
    assert started(experiment) == 3


def test_a_full_cap_leaves_it_running_with_its_items_pending(settings: Any, alice: User) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 1
    experiment = experiment_of(alice, 2, concurrency=2)
    Run.objects.create(owner=alice, team_name="other", spec={}, status=Run.Status.QUEUED)
    # no place at all: nothing starts, and the experiment is not taken for finished
    assert actions.do_advance(experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING
    assert experiment.items.filter(status=ExperimentItem.Status.PENDING).count() == 2
