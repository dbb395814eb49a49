"""An experiment starts its items as runs of its owner, one round at a time, for as long as it
runs. An account the operator switched off starts no run by any other road (API, trigger,
schedule, publication), but its experiments went on starting every item on the operator's
models; and one whose owner left the workspace failed every step, for ever. Now either stops
the experiment at its next step: nothing more starts, its runs in flight are cancelled, and
what was scored keeps its score."""

from typing import Any

import pytest
from django.contrib.auth.models import User

from evaluations import actions
from evaluations.models import Experiment, ExperimentItem
from evaluations.scorers import SPECS
from runs.models import Run
from tests.factories import make_team, make_user
from workspaces.models import Membership, create_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]  # tests/conftest.py


def experiment_of(owner: User, team: Any, items: int, concurrency: int) -> Experiment:
    dataset = actions.do_create_dataset(owner, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"n": n}) for n in range(items)])
    specs = SPECS.validate_python([{"kind": "exact"}])
    return actions.do_start_experiment(owner, team.current_version(), dataset, specs, concurrency)


def test_a_switched_off_owner_starts_no_more_items(alice: User) -> None:
    experiment = experiment_of(alice, make_team(alice), items=5, concurrency=2)
    # The first step starts two items; one of them ends.
    assert actions.do_advance(experiment.pk)
    first, second = experiment.items.exclude(run=None).order_by("item_id")
    Run.objects.filter(pk=first.run_id).update(status=Run.Status.SUCCEEDED, output="x")
    # The operator switches alice's account off.
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert not actions.do_advance(experiment.pk)

    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CANCELLED
    assert Run.objects.filter(owner=alice).count() == 2  # nothing more started
    assert Run.objects.get(pk=second.run_id).status == Run.Status.CANCELLED
    assert "switched off" in Run.objects.get(pk=second.run_id).failure_reason
    # the item whose run ended was scored; the rest are cancelled
    states = dict(experiment.items.values_list("item_id", "status"))
    assert states[first.item_id] == ExperimentItem.Status.DONE
    assert list(states.values()).count(ExperimentItem.Status.CANCELLED) == 4


def test_an_owner_who_left_the_workspace_stops_it_instead_of_failing_each_step(
    alice: User,
) -> None:
    bob = make_user("bob")
    shared = create_workspace("Shared", owner=alice)
    Membership.objects.create(workspace=shared, user=bob, role="runner")
    team = make_team(alice)
    team.workspace = shared
    team.save(update_fields=["workspace"])
    experiment = experiment_of(bob, team, items=3, concurrency=1)
    assert actions.do_advance(experiment.pk)
    # bob leaves the workspace
    Membership.objects.filter(workspace=shared, user=bob).delete()

    assert not actions.do_advance(experiment.pk)

    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CANCELLED
    assert Run.objects.filter(owner=bob).count() == 1
