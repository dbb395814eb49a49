"""Attacks by members of a workspace: what each one tries is refused (these calls succeeded
before every operation checked its permission: a viewer could write, and a member of two
workspaces could pull one's team into the other's)."""

import json
from typing import Any

import pytest
from django.test import Client

from runs.models import Run
from teams.models import Team
from tests.factories import make_run, make_team, make_user, minimal_spec
from workspaces.models import Membership

pytestmark = pytest.mark.django_db

SECRET_INSTRUCTIONS = "Only alice's workspace may read this playbook."


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, method: str, url: str, body: Any = None) -> Any:
    return client.generic(method, url, json.dumps(body or {}), content_type="application/json")


def join(team: Any, user: Any, role: str) -> None:
    Membership.objects.create(workspace=team.workspace, user=user, role=role)


@pytest.fixture
def alices_team() -> Any:
    spec = minimal_spec(name="Playbook")
    spec["nodes"][0]["instructions"] = SECRET_INSTRUCTIONS
    return make_team(make_user("alice"), spec)


def nesting(team_id: int) -> dict[str, Any]:
    spec = minimal_spec(name="Bob's desk")
    spec["nodes"].append({"kind": "team", "id": "borrowed", "name": "Borrowed", "team_id": team_id})
    spec["edges"].append({"id": "e1", "source": "lead", "target": "borrowed", "kind": "delegates"})
    return spec


def test_a_member_of_two_workspaces_cannot_nest_one_workspaces_team_into_the_other(
    alices_team: Any,
) -> None:
    bobs_team = make_team(make_user("bob"))
    mallory = make_user("mallory")
    join(alices_team, mallory, "editor")
    join(bobs_team, mallory, "editor")
    mallory_client = client_of(mallory)

    # Saving bob's team with alice's team nested in it: the reference does not resolve.
    saved = send(
        mallory_client, "PUT", f"/api/teams/{bobs_team.id}", {"spec": nesting(alices_team.id)}
    )
    assert saved.status_code == 422, saved.content
    assert "unknown_team" in [p["code"] for p in saved.json()["problems"]]

    # Even saved as a draft, it never runs and never exports with alice's team inlined.
    draft = send(
        mallory_client,
        "PUT",
        f"/api/teams/{bobs_team.id}",
        {"spec": nesting(alices_team.id), "draft": True},
    )
    assert draft.status_code == 200 and draft.json()["is_valid"] is False
    started = send(mallory_client, "POST", f"/api/teams/{bobs_team.id}/runs", {"input": {}})
    assert started.status_code == 422
    exported = mallory_client.get(f"/api/teams/{bobs_team.id}/export")
    assert exported.status_code == 422
    assert SECRET_INSTRUCTIONS not in exported.content.decode()
    assert not Run.objects.filter(team=bobs_team).exists()


def test_a_viewer_can_read_but_not_change_delete_run_or_cancel(alices_team: Any) -> None:
    vic = make_user("vic")
    join(alices_team, vic, "viewer")
    run = make_run(alices_team.owner, team=alices_team, status="queued")
    vic_client = client_of(vic)
    team_url = f"/api/teams/{alices_team.id}"

    assert vic_client.get(team_url).status_code == 200
    assert vic_client.get(f"/api/runs/{run.id}").status_code == 200
    attempts = [
        ("PUT", team_url, {"spec": minimal_spec(name="Vandalised")}),
        ("DELETE", team_url, None),
        ("POST", f"{team_url}/runs", {"input": {}}),
        ("POST", f"/api/runs/{run.id}/cancel", None),
        ("POST", "/api/teams", {"name": "Mine now", "workspace": alices_team.workspace.slug}),
    ]
    for method, url, body in attempts:
        response = send(vic_client, method, url, body)
        assert response.status_code == 403, (method, url, response.content)
        assert "you are viewer" in response.json()["detail"]

    alices_team.refresh_from_db()
    run.refresh_from_db()
    assert alices_team.name == "Playbook" and run.status == "queued"
    assert Run.objects.count() == 1


def test_a_runner_may_run_but_not_read_the_workspaces_secrets_or_webhooks(alices_team: Any) -> None:
    rita = make_user("rita")
    join(alices_team, rita, "runner")
    rita_client = client_of(rita)
    slug = alices_team.workspace.slug

    assert (
        send(rita_client, "POST", f"/api/teams/{alices_team.id}/runs", {"input": {}}).status_code
        == 201
    )
    assert rita_client.get(f"/api/secrets?workspace={slug}").status_code == 403
    assert rita_client.get(f"/api/teams/{alices_team.id}/webhooks").status_code == 403


def test_a_viewer_gets_the_403_page_naming_the_roles(alices_team: Any) -> None:
    vic = make_user("vic")
    join(alices_team, vic, "viewer")

    page = client_of(vic).post(f"/teams/{alices_team.id}/delete/")

    assert page.status_code == 403
    assert "Deleting a team in alice needs the owner, admin or editor role; you are viewer." in (
        page.content.decode()
    )
    assert Team.objects.filter(pk=alices_team.pk).exists()
