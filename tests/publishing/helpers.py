"""Publishing a team and calling it the way another system does: with a key, no session."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from tests.factories import make_team, minimal_spec

#: The input published teams in these tests take: a question, at most 200 characters.
INPUT_SCHEMA = {
    "type": "object",
    "properties": {"question": {"type": "string", "maxLength": 200}},
    "required": ["question"],
    "additionalProperties": False,
}


def make_asking_team(owner: User, name: str = "Help desk") -> Any:
    return make_team(owner, minimal_spec(name=name, input_schema=INPUT_SCHEMA))


def publish(client: Client, team: Any, slug: str, **fields: Any) -> dict[str, Any]:
    body = {"version": team.version, "slug": slug, **fields}
    response = client.post(f"/api/teams/{team.id}/publish", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def issue_key(client: Client, publication: dict[str, Any], name: str = "crm") -> str:
    response = client.post(
        f"/api/publications/{publication['id']}/keys", {"name": name},
        content_type="application/json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    return response.json()["key"]


def as_caller(key: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"} if key else {}


def start(slug: str, key: str | None, body: Any, query: str = "") -> Any:
    """POST /p/<slug>/runs as another system does: no session, CSRF checks on."""
    payload = body if isinstance(body, bytes | str) else json.dumps(body)
    return Client(enforce_csrf_checks=True).post(
        f"/p/{slug}/runs{query}", payload, content_type="application/json", **as_caller(key)
    )


def read(slug: str, key: str | None, run_id: Any) -> Any:
    return Client(enforce_csrf_checks=True).get(f"/p/{slug}/runs/{run_id}", **as_caller(key))
