"""A person cannot fill every worker slot or spend without bound: runs in flight, runs per
hour and tokens and dollars per day are capped per person, answered with 429 and
Retry-After, and nothing is created; another person is unaffected."""

import json
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client, TestCase
from django.utils import timezone

from orchestration_site.quotas import QuotaExceeded
from runs.actions import new_runs
from runs.models import Run
from tests.factories import make_run, make_team, make_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]  # tests/conftest.py


def start(user: User, team: Any) -> Any:
    """POST a run start as a script would: with a bearer token."""
    client = Client(headers={"Authorization": f"Bearer {make_token(user)}"})
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(f"/api/teams/{team.id}/runs", "{}", content_type="application/json")


def test_it_refuses_a_run_past_the_in_flight_cap(settings: Any, alice: User, bob: User) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 3
    team = make_team(alice)
    # alice starts runs until the cap; they are all queued (nothing executes them here)
    for _ in range(3):
        assert start(alice, team).status_code == 201
    response = start(alice, team)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert "3 runs queued or running" in response.json()["detail"]
    assert Run.objects.filter(owner=alice).count() == 3
    # bob starts his own run as usual
    assert start(bob, make_team(bob)).status_code == 201


def test_a_run_that_ended_frees_its_place(settings: Any, alice: User) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 1
    team = make_team(alice)
    assert start(alice, team).status_code == 201
    assert start(alice, team).status_code == 429
    Run.objects.filter(owner=alice).update(status=Run.Status.SUCCEEDED)
    assert start(alice, team).status_code == 201


def test_it_refuses_runs_past_the_hourly_rate(settings: Any, alice: User, bob: User) -> None:
    settings.QUOTA_RUNS = "2/hour"
    team = make_team(alice)
    for _ in range(2):
        assert start(alice, team).status_code == 201
        Run.objects.filter(owner=alice).update(status=Run.Status.SUCCEEDED)
    response = start(alice, team)
    assert response.status_code == 429
    assert 3000 < int(response["Retry-After"]) <= 3600
    assert "run starts" in response.json()["detail"]
    assert Run.objects.filter(owner=alice).count() == 2
    assert start(bob, make_team(bob)).status_code == 201


def test_replay_and_fork_count_as_run_starts(settings: Any, alice: User) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 1
    finished = make_run(alice, status=Run.Status.SUCCEEDED)
    make_run(alice)  # queued: alice's one place is taken
    client = Client(headers={"Authorization": f"Bearer {make_token(alice)}"})
    for action, body in (("replay", {}), ("fork", {"from_seq": 0})):
        response = client.post(
            f"/api/runs/{finished.id}/{action}", json.dumps(body), content_type="application/json"
        )
        assert response.status_code == 429, action
    assert Run.objects.filter(owner=alice).count() == 2


@pytest.mark.parametrize(
    ("setting", "value", "used", "said"),
    [
        ("QUOTA_TOKENS_PER_DAY", 1000, {"input_tokens": 600, "output_tokens": 500}, "tokens"),
        ("QUOTA_USD_PER_DAY", 2.0, {"cost_usd": "2.5"}, "$2.50"),
    ],
)
def test_it_refuses_a_run_once_the_days_spend_is_used(
    settings: Any, alice: User, bob: User, setting: str, value: Any, used: Any, said: str
) -> None:
    setattr(settings, setting, value)
    # a run of alice's, two hours ago, used up her day
    spent = make_run(alice, status=Run.Status.SUCCEEDED, **used)
    Run.objects.filter(id=spent.id).update(created_at=timezone.now() - timedelta(hours=2))
    response = start(alice, make_team(alice))
    assert response.status_code == 429
    assert said in response.json()["detail"]
    # it frees up when that run leaves the 24-hour window: in about 22 hours
    assert 21 * 3600 < int(response["Retry-After"]) <= 22 * 3600
    assert Run.objects.filter(owner=alice).count() == 1
    assert start(bob, make_team(bob)).status_code == 201


def test_a_round_of_runs_past_the_in_flight_cap_starts_none(settings: Any, alice: User) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 3
    version = make_team(alice).versions.get()
    assert start(alice, version.team).status_code == 201
    # an experiment's round of three items would make four in flight: none is started
    with pytest.raises(QuotaExceeded, match="3 more runs would pass the 3 allowed"):
        new_runs(alice, version, [{"n": 1}, {"n": 2}, {"n": 3}])
    assert Run.objects.filter(owner=alice).count() == 1
    # a round of two fits, each its own queued run
    made = new_runs(alice, version, [{"n": 1}, {"n": 2}], started_by="experiment:1")
    assert [r.input for r in made] == [{"n": 1}, {"n": 2}]
    assert Run.objects.filter(owner=alice, status="queued", started_by="experiment:1").count() == 2


def test_a_round_of_runs_past_the_hourly_rate_counts_none(settings: Any, alice: User) -> None:
    settings.QUOTA_RUNS = "2/hour"
    version = make_team(alice).versions.get()
    with pytest.raises(QuotaExceeded, match="run starts"):
        new_runs(alice, version, [{"n": 1}, {"n": 2}, {"n": 3}])
    # the refused round used none of the hour's two starts
    assert len(new_runs(alice, version, [{"n": 1}, {"n": 2}])) == 2
    assert start(alice, version.team).status_code == 429
