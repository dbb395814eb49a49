"""The teams API round-trip: create, read, update with versions, delete."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.models import Team, TeamVersion
from tests.factories import make_team, supervisor_spec

pytestmark = pytest.mark.django_db


def send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_it_creates_a_starter_team_from_a_name(alice_client: Client) -> None:
    response = send(alice_client, "post", "/api/teams", {"name": "Research"})
    assert response.status_code == 201
    team = response.json()
    assert (team["name"], team["version"], team["is_valid"]) == ("Research", 1, True)
    assert team["spec"]["entry"] == "lead"
    assert team["problems"] == []


def test_it_round_trips_a_spec_through_create_read_update(alice_client: Client) -> None:
    created = send(alice_client, "post", "/api/teams", {"name": "Desk", "spec": supervisor_spec()})
    assert created.status_code == 201
    team_id = created.json()["id"]
    read = alice_client.get(f"/api/teams/{team_id}").json()
    assert read["name"] == "Desk"
    assert read["spec"]["edges"][0]["target"] == "worker"

    changed = read["spec"] | {"description": "Now described"}
    response = send(
        alice_client, "put", f"/api/teams/{team_id}", {"spec": changed, "message": "describe"}
    )
    assert response.status_code == 200
    assert (response.json()["version"], response.json()["description"]) == (2, "Now described")
    assert [t["id"] for t in alice_client.get("/api/teams").json()] == [team_id]


def test_it_keeps_every_version_unchanged(alice: User, alice_client: Client) -> None:
    team = make_team(alice, supervisor_spec())
    renamed = supervisor_spec(name="Renamed")
    send(alice_client, "put", f"/api/teams/{team.pk}", {"spec": renamed, "message": "rename"})

    versions = alice_client.get(f"/api/teams/{team.pk}/versions").json()
    assert [(v["number"], v["message"]) for v in versions] == [(2, "rename"), (1, "Created")]
    assert versions[0]["created_by"] == "alice"
    first = alice_client.get(f"/api/teams/{team.pk}/versions/1").json()
    assert first["spec"]["name"] == "Minimal team"
    assert alice_client.get(f"/api/teams/{team.pk}/versions/9").status_code == 404


def test_it_refuses_an_invalid_spec_and_keeps_the_old_one(
    alice: User, alice_client: Client
) -> None:
    team = make_team(alice, supervisor_spec())
    broken = supervisor_spec(entry="nobody")
    response = send(alice_client, "put", f"/api/teams/{team.pk}", {"spec": broken})
    assert response.status_code == 422
    assert "nothing was saved" in response.json()["detail"]
    problem = response.json()["problems"][0]
    assert (problem["code"], problem["path"], problem["severity"]) == (
        "unknown_entry",
        "entry",
        "error",
    )
    team.refresh_from_db()
    assert team.version == 1 and team.spec["entry"] == "lead"
    assert TeamVersion.objects.filter(team=team).count() == 1


def test_it_saves_a_draft_with_errors_as_invalid(alice: User, alice_client: Client) -> None:
    team = make_team(alice, supervisor_spec())
    broken = supervisor_spec(entry="nobody")
    response = send(alice_client, "put", f"/api/teams/{team.pk}", {"spec": broken, "draft": True})
    assert response.status_code == 200
    assert response.json()["is_valid"] is False
    assert any(p["code"] == "unknown_entry" for p in response.json()["problems"])
    listed = alice_client.get("/api/teams").json()
    assert listed[0]["is_valid"] is False and listed[0]["version"] == 2


def test_it_deletes_a_team(alice: User, alice_client: Client) -> None:
    team = make_team(alice)
    assert alice_client.delete(f"/api/teams/{team.pk}").status_code == 204
    assert not Team.objects.filter(pk=team.pk).exists()
    assert alice_client.get(f"/api/teams/{team.pk}").status_code == 404


def test_it_lists_the_offline_model_first(alice: User, alice_client: Client) -> None:
    from teams.models import ModelConfig

    ModelConfig.objects.create(owner=alice, name="gpt", provider="openai", model="gpt-4o-mini")
    models = alice_client.get("/api/models").json()
    assert [m["name"] for m in models] == ["offline", "gpt"]
    assert models[0]["simulated"] is True and models[1]["simulated"] is False
