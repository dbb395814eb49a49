"""Every run has a budget: the operator's default where the team set none, never more than the
operator's maximum, and a person approving more at the budget question cannot pass it."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from runs.models import Run, RunEvent
from tests.factories import make_team, make_user, minimal_spec, supervisor_spec
from tests.runs.helpers import logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_DEFAULT_TOKEN_BUDGET = 5
    settings.RUN_MAX_TOKEN_BUDGET = 200


def budget_question(run_id: str) -> dict[str, Any]:
    asked = RunEvent.objects.get(run_id=run_id, type="human.requested")
    assert asked.payload["kind"] == "budget"
    return asked.payload


def answer(client: Any, run_id: str, body: Any) -> Any:
    return client.post(
        f"/api/runs/{run_id}/answer", json.dumps({"answer": body}), content_type="application/json"
    )


def test_a_team_without_a_budget_stops_at_the_operators_default() -> None:
    alice = make_user()
    # a team that sets no budget at all (a supervisor: several model calls), offline
    team = make_team(alice, supervisor_spec())
    run_id = start(logged_in(alice), team.id, {"task": "a long essay " * 50})

    run = wait_for_status(run_id, "waiting", "succeeded", "failed")
    assert run.status == "waiting", run.failure_reason
    assert "of 5 tokens" in budget_question(run_id)["prompt"]
    assert run.spec["limits"]["token_budget"] == 5


def test_a_team_cannot_ask_for_more_than_the_maximum() -> None:
    alice = make_user()
    team = make_team(alice, minimal_spec(limits={"token_budget": 10_000_000}))
    run_id = start(logged_in(alice), team.id, {"task": "x"})
    assert Run.objects.get(id=run_id).spec["limits"]["token_budget"] == 200


def test_approving_more_stops_at_the_maximum(alice: User) -> None:
    client = logged_in(alice)
    run_id = start(client, make_team(alice, supervisor_spec()).id, {"task": "a long essay " * 50})
    wait_for_status(run_id, "waiting")

    # 5 + 1,000 would pass the operator's 200: refused, nothing recorded, still waiting
    response = answer(client, run_id, {"approve": True, "extra_tokens": 1000})
    assert response.status_code == 422
    assert "at most 200" in response.json()["detail"]
    assert not RunEvent.objects.filter(run_id=run_id, type="human.answered").exists()
    assert Run.objects.get(id=run_id).status == "waiting"
    # within the maximum it is approved, and the run goes on
    assert answer(client, run_id, {"approve": True, "extra_tokens": 150}).status_code == 200
