"""A person's API requests per minute and webhooks per team are capped: past the cap the API
answers 429 with Retry-After and does nothing; another person is unaffected."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from runs.models import Webhook
from tests.factories import make_team, make_token

pytestmark = pytest.mark.django_db


def test_a_script_past_the_request_rate_gets_429(settings: Any, alice: User, bob: User) -> None:
    settings.QUOTA_API_REQUESTS = "5/minute"
    script = Client(headers={"Authorization": f"Bearer {make_token(alice)}"})
    # alice's script hammers the API: five answers, then 429 for a minute
    assert [script.get("/api/teams").status_code for _ in range(5)] == [200] * 5
    refused = script.get("/api/teams")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "API requests" in refused.json()["detail"]
    # her browser session is the same person: refused too
    browser = Client()
    browser.force_login(alice)
    assert browser.get("/api/teams").status_code == 429
    # bob is not slowed down by alice
    assert (
        Client(headers={"Authorization": f"Bearer {make_token(bob)}"}).get("/api/teams").status_code
        == 200
    )


def test_a_refused_request_changes_nothing(settings: Any, alice: User) -> None:
    settings.QUOTA_API_REQUESTS = "1/minute"
    team = make_team(alice)
    script = Client(headers={"Authorization": f"Bearer {make_token(alice)}"})
    assert script.get("/api/teams").status_code == 200
    response = script.delete(f"/api/teams/{team.id}")
    assert response.status_code == 429
    assert team.__class__.objects.filter(id=team.id).exists()


def test_a_team_cannot_have_more_webhooks_than_the_cap(
    settings: Any, alice: User, alice_client: Client
) -> None:
    settings.QUOTA_WEBHOOKS_PER_TEAM = 2
    team = make_team(alice)
    url = f"/api/teams/{team.id}/webhooks"
    for n in range(2):
        body = {"url": f"https://hooks.example.org/{n}"}
        assert alice_client.post(url, body, content_type="application/json").status_code == 201
    body = {"url": "https://hooks.example.org/3"}
    response = alice_client.post(url, body, content_type="application/json")
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Delete one" in response.json()["detail"]
    assert Webhook.objects.filter(team=team).count() == 2
    # another team of hers has its own places
    other = make_team(alice)
    response = alice_client.post(
        f"/api/teams/{other.id}/webhooks", body, content_type="application/json"
    )
    assert response.status_code == 201
