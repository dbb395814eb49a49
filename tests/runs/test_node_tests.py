"""Testing one agent of an unsaved draft (``POST /api/teams/{id}/nodes/{node_id}/test``): the
agent runs alone as a real run, flagged as a node test, with its tools and its model, the
upstream output a pipeline stage is given, and the same boundaries as any run: another user's
team, models and secrets stay out of reach, quotas and budgets hold, bad input is a 422."""

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from runs.models import Run, RunEvent
from teams.models import ModelConfig
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import assert_sound_trail, logged_in, wait_for_status
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_ENGINE_OPTIONS = {"retry_base_s": 0.01, "retry_cap_s": 0.05}
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")


def draft(model: str = "offline", **worker: Any) -> dict[str, Any]:
    """A supervisor and a worker with a tool, as the canvas holds them (never saved)."""
    return minimal_spec(
        nodes=[
            {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Delegate."},
            {
                "kind": "agent",
                "id": "calc",
                "name": "Calculator",
                "model": model,
                "instructions": "Compute.",
                "tools": ["calculator"],
                **worker,
            },
        ],
        edges=[{"id": "e1", "source": "lead", "target": "calc", "kind": "delegates"}],
    )


def node_test(client: Client, team_id: int, node: str, body: dict[str, Any]) -> Any:
    url = f"/api/teams/{team_id}/nodes/{node}/test"
    return client.post(url, json.dumps(body), content_type="application/json")


def types(run_id: str) -> list[str]:
    return list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("type", flat=True)
    )


async def test_an_agent_of_an_unsaved_draft_runs_alone_with_its_tools_and_model(openai_server):
    openai_server.on(lambda r: r.turn == 1, Reply.calls(("calculator", {"expression": "6*7"})))
    openai_server.on(lambda r: True, Reply.text("It is 42."))
    alice = await sync_to_async(make_user)()
    await sync_to_async(make_model_config)(alice, openai_server.base_url)
    team = await sync_to_async(make_team)(alice)  # the saved version has no such agent
    client = await sync_to_async(logged_in)(alice)

    response = await sync_to_async(node_test)(
        client, team.id, "calc", {"spec": draft("scripted"), "input": "What is 6 times 7?"}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["started_by"] == "node-test:calc" and body["team_version"] is None
    run = await sync_to_async(wait_for_status)(body["id"], "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    assert run.output == "It is 42."
    # The agent alone: its tool was called in the sandbox and the result went back to the
    # model, the model saw the typed input, nobody else ran.
    events = await sync_to_async(assert_sound_trail)(run)
    [call] = [e for e in events if e.type == "tool.call"]
    assert call.payload["tool"] == "calculator" and "6*7" in json.dumps(call.payload)
    [result] = [e for e in events if e.type == "tool.result"]
    # (A loaded machine may not start the tool's process within its 5 s: then it says so.)
    assert "42" in json.dumps(result.payload) or "did not finish" in result.payload["error"]
    assert [m["role"] for m in openai_server.log[1].body["messages"]][-1] == "tool"
    assert {e.agent for e in events if e.type == "agent.started"} == {"calc"}
    assert "What is 6 times 7?" in json.dumps(openai_server.log[0].body["messages"])
    # Nothing was saved: the team is as it was.
    await sync_to_async(team.refresh_from_db)()
    assert team.version == 1 and len(team.spec["nodes"]) == 1


def test_the_offline_model_stands_in_for_the_agents_own() -> None:
    alice = make_user()
    team = make_team(alice)

    # The agent names a model alice does not have; on the offline model it runs anyway.
    response = node_test(
        logged_in(alice), team.id, "calc",
        {"spec": draft("not-configured"), "input": "2+2", "model": "offline"},
    )  # fmt: skip

    assert response.status_code == 201, response.content
    run = wait_for_status(response.json()["id"], "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    assert run.spec["nodes"][0]["model"] == "offline"


def test_a_pipeline_stage_gets_the_upstream_output_as_its_task() -> None:
    alice = make_user()
    team = make_team(alice)
    stages = minimal_spec(
        "pipeline",
        nodes=[{"kind": "agent", "id": "draft", "name": "Draft"},
               {"kind": "agent", "id": "edit", "name": "Edit"}],
        edges=[{"id": "n1", "source": "draft", "target": "edit", "kind": "next"}],
        entry="draft",
    )  # fmt: skip

    response = node_test(logged_in(alice), team.id, "edit",
                         {"spec": stages, "upstream": "A draft about ledgers"})  # fmt: skip

    assert response.status_code == 201, response.content
    run = wait_for_status(response.json()["id"], "succeeded", "failed")
    assert run.input == "A draft about ledgers"
    started = RunEvent.objects.get(run=run, type="agent.started")
    assert started.agent == "edit" and "A draft about ledgers" in json.dumps(started.payload)


# --- the trust boundary -------------------------------------------------------------------


def test_another_users_team_is_not_found() -> None:
    alice, mallory = make_user("alice"), make_user("mallory")
    team = make_team(alice)

    response = node_test(logged_in(mallory), team.id, "calc", {"spec": draft(), "input": "x"})

    assert response.status_code == 404
    assert not Run.objects.exists()


def test_another_users_model_and_its_key_stay_out_of_reach(openai_server) -> None:
    # Alice has a model named "scripted" with a key; Mallory names it in her draft.
    alice, mallory = make_user("alice"), make_user("mallory")
    make_model_config(alice, "http://127.0.0.1:9/v1")
    team = make_team(mallory)

    response = node_test(logged_in(mallory), team.id, "calc",
                         {"spec": draft("scripted"), "input": "x"})  # fmt: skip

    assert response.status_code == 422
    problem = response.json()["problems"][0]
    assert problem["node"] == "calc" and problem["path"].startswith("nodes.1.model")
    assert not Run.objects.exists()
    assert ModelConfig.objects.filter(owner=mallory).count() == 0


def test_another_users_custom_tool_is_unknown() -> None:
    from tests.factories import make_custom_tool

    alice, mallory = make_user("alice"), make_user("mallory")
    make_custom_tool(alice)
    team = make_team(mallory)
    spec = draft(tools=["order_lookup"])

    response = node_test(logged_in(mallory), team.id, "calc", {"spec": spec, "input": "x"})

    assert response.status_code == 422
    assert any(p["path"].startswith("nodes.1.tools") for p in response.json()["problems"])
    assert not Run.objects.exists()


def test_node_tests_count_against_the_runs_in_flight_quota(settings: Any) -> None:
    settings.QUOTA_RUNS_IN_FLIGHT = 1
    alice = make_user()
    team = make_team(alice)
    Run.objects.create(owner=alice, team=team, team_name="busy", spec={}, status="running")

    response = node_test(logged_in(alice), team.id, "calc", {"spec": draft(), "input": "x"})

    assert response.status_code == 429 and response.has_header("Retry-After")
    assert Run.objects.count() == 1


def test_a_draft_cannot_raise_its_budget_past_the_operators_maximum(settings: Any) -> None:
    settings.RUN_MAX_TOKEN_BUDGET = 5000
    alice = make_user()
    team = make_team(alice)
    greedy = {**draft(), "limits": {"token_budget": 10_000_000}}

    response = node_test(logged_in(alice), team.id, "calc", {"spec": greedy, "input": "x"})

    assert response.status_code == 201, response.content
    assert Run.objects.get().spec["limits"]["token_budget"] == 5000


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "body", "code"),
    [
        ("calc", {"spec": {"pattern": "nonsense"}, "input": "x"}, None),
        ("ghost", {"spec": draft(), "input": "x"}, "unknown_node"),
        ("calc", {"spec": draft(), "input": "bad \u0000 text"}, "nul_character"),
        ("calc", {"spec": draft(), "upstream": "not a stage"}, "no_upstream"),
    ],
)
def test_bad_requests_are_422_and_start_nothing(node: str, body: dict[str, Any], code: Any) -> None:
    alice = make_user()
    team = make_team(alice)

    response = node_test(logged_in(alice), team.id, node, body)

    assert response.status_code == 422, response.content
    assert response.json()["detail"] and response.json()["problems"]
    if code:
        assert code in {p["code"] for p in response.json()["problems"]}
    assert not Run.objects.exists()


def test_a_person_cannot_be_tested_alone() -> None:
    alice = make_user()
    team = make_team(alice)
    spec = minimal_spec(nodes=[{"kind": "agent", "id": "lead", "name": "Lead"},
                               {"kind": "human", "id": "boss", "name": "Boss"}])  # fmt: skip

    response = node_test(logged_in(alice), team.id, "boss", {"spec": spec, "input": "x"})

    assert response.status_code == 422
    assert "only an agent can be tested alone" in response.json()["detail"]


def test_it_needs_a_signed_in_caller() -> None:
    team = make_team(make_user())

    response = node_test(Client(), team.id, "calc", {"spec": draft(), "input": "x"})

    assert response.status_code == 401
