"""Bad input to the runs API gets a clear 4xx in the contract's JSON shape and starts nothing:
a null input, an input that misses the team's input schema, dates the database cannot
compare, ids that are not ids, text the database cannot store."""

import json
from typing import Any

import pytest
from django.test import Client

from runs.models import Run
from tests.factories import make_team, minimal_spec

pytestmark = pytest.mark.django_db

TICKET_SCHEMA = {
    "type": "object",
    "properties": {"ticket": {"type": "string"}, "priority": {"enum": ["low", "high"]}},
    "required": ["ticket"],
}


def start(alice_client: Client, team_id: int, body: Any) -> Any:
    return alice_client.post(
        f"/api/teams/{team_id}/runs", json.dumps(body), content_type="application/json"
    )


def test_a_null_input_is_refused_and_a_missing_one_is_empty(
    alice_client: Client, alice: Any
) -> None:
    team = make_team(alice)

    refused = start(alice_client, team.id, {"input": None})
    assert refused.status_code == 422 and "cannot be null" in json.dumps(refused.json())
    assert not Run.objects.exists()

    started = start(alice_client, team.id, {})
    assert started.status_code == 201 and started.json()["input"] == {}


def test_an_input_that_misses_the_teams_input_schema_is_refused_with_where(
    alice_client: Client, alice: Any
) -> None:
    team = make_team(alice, minimal_spec(input_schema=TICKET_SCHEMA))

    response = start(alice_client, team.id, {"input": {"priority": "urgent"}})

    assert response.status_code == 422
    problems = response.json()["problems"]
    assert {p["code"] for p in problems} == {"invalid_input"}
    assert {p["path"] for p in problems} == {"input", "input.priority"}
    assert not Run.objects.exists()
    assert start(alice_client, team.id, {"input": {"ticket": "Printer on fire"}}).status_code == 201


@pytest.mark.parametrize(
    ("since", "expected"),
    [("2026-01-01T00:00:00+20:00", 200), ("0001-01-01T00:00:00+05:00", 422)],
)
def test_dates_the_database_cannot_take_as_given_are_normalised_or_refused(
    alice_client: Client, since: str, expected: int
) -> None:
    response = alice_client.get("/api/runs", {"since": since})
    assert response.status_code == expected and response["Content-Type"].startswith(
        "application/json"
    )


@pytest.mark.parametrize("path", ["/api/runs/not-a-run", "/api/artifacts/not-an-artifact"])
def test_an_id_that_is_not_an_id_is_a_json_404(alice_client: Client, path: str) -> None:
    response = alice_client.get(path)
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")


def test_a_nul_character_anywhere_in_a_body_is_refused_before_the_database(
    alice_client: Client,
) -> None:
    tool = {
        "name": "lookup",
        "description": "Look up",
        "url": "https://api.example.org/lookup",
        "method": "GET",
        "parameters": {"type": "object", "properties": {"q\u0000": {"type": "string"}}},
    }
    response = alice_client.post(
        "/api/custom-tools", json.dumps(tool), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "nul_character"
