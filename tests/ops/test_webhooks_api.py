"""The webhooks API: the team's owner adds, lists and removes URLs; the secret is shown once;
nobody else sees that the team or its runs exist; bad input is a clear 422."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from runs.models import Webhook
from tests.factories import make_run_of, make_supervisor_team, make_user


def post(client: Client, url: str, body: dict) -> object:
    return client.post(url, body, content_type="application/json")


@pytest.mark.django_db
def test_the_owner_adds_lists_and_removes_a_webhook(alice_client: Client, alice: User) -> None:
    team = make_supervisor_team(alice)
    url = f"/api/teams/{team.id}/webhooks"

    created = post(alice_client, url, {"url": "https://hooks.example.org/runs"})
    assert created.status_code == 201
    body = created.json()
    assert body["events"] == ["finished", "failed", "waiting"]
    assert body["secret"].startswith("whsec_")

    # The secret is shown once: the list never repeats it.
    [listed] = alice_client.get(url).json()
    assert listed["url"] == "https://hooks.example.org/runs"
    assert "secret" not in listed

    assert alice_client.delete(f"{url}/{body['id']}").status_code == 204
    assert alice_client.get(url).json() == []


@pytest.mark.django_db
def test_nobody_else_sees_a_teams_webhooks_or_a_runs_deliveries(client: Client) -> None:
    team = make_supervisor_team(make_user("alice"))
    run = make_run_of(team)
    Webhook.objects.create(
        team=team, url="https://hooks.example.org/", events=["failed"], secret="s"
    )
    url = f"/api/teams/{team.id}/webhooks"

    # Anonymous: 401.
    assert client.get(url).status_code == 401
    assert post(client, url, {"url": "https://evil.example.org/"}).status_code == 401

    # Bob: 404, as if the team did not exist.
    client.force_login(make_user("bob"))
    assert client.get(url).status_code == 404
    assert post(client, url, {"url": "https://evil.example.org/"}).status_code == 404
    hook = Webhook.objects.get()
    assert client.delete(f"{url}/{hook.id}").status_code == 404
    assert client.get(f"/api/runs/{run.id}/webhook-deliveries").status_code == 404
    assert Webhook.objects.count() == 1


@pytest.mark.django_db
def test_bad_input_is_refused_and_nothing_is_saved(alice_client: Client, alice: User) -> None:
    team = make_supervisor_team(alice)
    url = f"/api/teams/{team.id}/webhooks"

    for body in [
        {"url": "not a url"},
        {"url": "ftp://hooks.example.org/"},
        {"url": "https://hooks.example.org/", "events": []},
        {"url": "https://hooks.example.org/", "events": ["exploded"]},
        {"events": ["finished"]},
        {"url": "https://hooks.example.org/" + "a" * 2000},  # longer than we store
    ]:
        response = post(alice_client, url, body)
        assert response.status_code == 422, body
        assert response.json()["detail"]
    assert not Webhook.objects.exists()
