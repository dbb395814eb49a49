"""Validate, export and import: the TeamSpec document in and out, with located problems."""

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.models import Team
from tests.factories import make_team, make_user, minimal_spec, supervisor_spec

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def test_it_reports_a_valid_spec_as_valid(alice_client: Client) -> None:
    assert post(alice_client, "/api/teams/validate", supervisor_spec()).json() == {
        "valid": True,
        "problems": [],
    }


def test_it_locates_parse_failures_on_the_node(alice_client: Client) -> None:
    spec = supervisor_spec()
    spec["nodes"][1]["limits"] = {"max_turns": "many"}
    spec["nodes"][0]["instruction"] = "typo"
    result = post(alice_client, "/api/teams/validate", spec).json()
    assert result["valid"] is False
    located = {(p["node"], p["path"]) for p in result["problems"]}
    assert ("worker", "nodes.1.limits.max_turns") in located
    assert ("lead", "nodes.0.instruction") in located


def test_it_answers_422_with_every_problem_and_saves_nothing(alice_client: Client) -> None:
    spec = supervisor_spec(entry=None)
    spec["nodes"][1]["model"] = "gpt-9"
    response = post(alice_client, "/api/teams/import", spec)
    assert response.status_code == 422
    codes = {p["code"] for p in response.json()["problems"]}
    assert {"no_entry", "unknown_model"} <= codes
    assert not Team.objects.exists()


def test_it_answers_422_in_the_same_shape_for_a_bad_request(alice_client: Client) -> None:
    response = post(alice_client, "/api/teams", {"description": 5})
    assert response.status_code == 422
    body = response.json()
    assert isinstance(body["detail"], str)
    assert {p["path"] for p in body["problems"]} >= {"name", "description"}


def test_it_refuses_text_postgres_cannot_store(alice_client: Client) -> None:
    spec = supervisor_spec(name="bad\x00name")
    response = post(alice_client, "/api/teams/import", spec)
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "name"


def test_export_then_import_gives_an_equal_spec(alice: User, alice_client: Client) -> None:
    team = make_team(alice, supervisor_spec())
    exported = alice_client.get(f"/api/teams/{team.pk}/export")
    assert exported.status_code == 200
    assert exported["Content-Disposition"].startswith("attachment;")
    document = json.loads(exported.content)
    imported = post(alice_client, "/api/teams/import", document)
    assert imported.status_code == 201
    assert imported.json()["spec"] == document == team.spec


def test_export_inlines_a_nested_team(alice: User, alice_client: Client) -> None:
    inner = make_team(alice, minimal_spec(name="Inner"))
    outer = minimal_spec(
        nodes=[
            {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Lead."},
            {"kind": "team", "id": "research", "name": "Research", "team_id": inner.pk},
        ],
        edges=[{"id": "e1", "source": "lead", "target": "research", "kind": "delegates"}],
    )
    team = make_team(alice, outer)
    document = alice_client.get(f"/api/teams/{team.pk}/export").json()
    nested = document["nodes"][1]
    assert nested["team_id"] is None
    assert nested["spec"]["name"] == "Inner"
    # the exported file stands alone: another user can import it
    bob = Client()
    bob.force_login(make_user("bob"))
    assert post(bob, "/api/teams/import", document).status_code == 201


def test_layout_positions_of_missing_nodes_are_dropped_not_reported(alice_client: Client) -> None:
    spec = supervisor_spec(
        layout={"positions": {"lead": {"x": 1, "y": 2}, "gone": {"x": 0, "y": 0}}}
    )
    created = post(alice_client, "/api/teams", {"name": "Laid out", "spec": spec})
    assert created.status_code == 201
    assert created.json()["problems"] == []
    assert created.json()["spec"]["layout"]["positions"] == {"lead": {"x": 1.0, "y": 2.0}}


def test_validate_reports_a_circle_through_the_team_being_edited(
    alice: User, alice_client: Client
) -> None:
    team = make_team(alice, supervisor_spec())
    edited = supervisor_spec()
    edited["nodes"].append({"kind": "team", "id": "again", "name": "Again", "team_id": team.pk})
    edited["edges"].append({"id": "e2", "source": "lead", "target": "again", "kind": "delegates"})
    result = post(alice_client, f"/api/teams/validate?team_id={team.pk}", edited).json()
    assert [(p["code"], p["node"]) for p in result["problems"]] == [("nesting_cycle", "again")]


def test_a_document_too_deep_or_too_big_is_a_problem_not_a_crash(alice_client: Client) -> None:
    deep: Any = "bottom"
    for _ in range(500):
        deep = {"x": deep}
    spec = supervisor_spec()
    spec["nodes"][1]["output_schema"] = deep
    result = post(alice_client, "/api/teams/validate", spec).json()
    assert [p["code"] for p in result["problems"]] == ["too_deep"]

    crowded = supervisor_spec()
    crowded["nodes"] += [{"kind": "agent", "id": f"a{i}", "name": "A"} for i in range(300)]
    response = post(alice_client, "/api/teams/import", crowded)
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "nodes"
