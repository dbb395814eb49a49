"""Who may call the teams API: the owner only (others get 404), by session or bearer token."""

from typing import Any

import pytest
from django.test import Client

from teams.models import ApiToken
from tests.factories import make_team, make_token, make_user, minimal_spec

pytestmark = pytest.mark.django_db


def every_endpoint(team_id: int) -> list[tuple[str, str, Any]]:
    spec = minimal_spec()
    return [
        ("get", f"/api/teams/{team_id}", None),
        ("put", f"/api/teams/{team_id}", {"spec": spec}),
        ("delete", f"/api/teams/{team_id}", None),
        ("get", f"/api/teams/{team_id}/versions", None),
        ("get", f"/api/teams/{team_id}/versions/1", None),
        ("get", f"/api/teams/{team_id}/export", None),
    ]


def call(client: Client, method: str, url: str, body: Any, **headers: str) -> Any:
    if body is None:
        return getattr(client, method)(url, headers=headers)
    return getattr(client, method)(url, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("index", range(6))
def test_it_answers_404_for_another_users_team(index: int) -> None:
    team = make_team(make_user("alice"))
    bob = Client()
    bob.force_login(make_user("bob"))
    method, url, body = every_endpoint(team.pk)[index]
    response = call(bob, method, url, body)
    assert response.status_code == 404
    assert "detail" in response.json()
    team.refresh_from_db()
    assert team.version == 1  # nothing changed


def test_it_lists_only_the_callers_teams() -> None:
    make_team(make_user("alice"))
    bob = Client()
    bob.force_login(make_user("bob"))
    assert bob.get("/api/teams").json() == []


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/teams", None),
        ("post", "/api/teams", {"name": "x"}),
        ("post", "/api/teams/validate", minimal_spec()),
        ("post", "/api/teams/import", minimal_spec()),
        ("get", "/api/models", None),
    ],
)
def test_it_answers_401_without_credentials(method: str, url: str, body: Any) -> None:
    assert call(Client(), method, url, body).status_code == 401


def test_it_answers_401_on_a_team_url_without_credentials() -> None:
    team = make_team(make_user("alice"))
    for method, url, body in every_endpoint(team.pk):
        assert call(Client(), method, url, body).status_code == 401, url


def test_it_refuses_a_session_write_without_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    response = call(client, "post", "/api/teams", {"name": "x"})
    assert response.status_code == 403


def test_it_accepts_a_session_write_with_the_csrf_token() -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("alice"))
    client.get("/admin/login/")  # any page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = call(client, "post", "/api/teams", {"name": "x"}, X_CSRFToken=token)
    assert response.status_code == 201


def test_it_accepts_a_bearer_token_without_csrf() -> None:
    alice = make_user("alice")
    token = make_token(alice)
    client = Client(enforce_csrf_checks=True)
    auth = {"Authorization": f"Bearer {token}"}
    created = call(client, "post", "/api/teams", {"name": "Scripted"}, **auth)
    assert created.status_code == 201
    assert call(client, "get", "/api/teams", None, **auth).json()[0]["name"] == "Scripted"


def test_it_refuses_a_revoked_or_unknown_token() -> None:
    alice = make_user("alice")
    token = make_token(alice)
    ApiToken.objects.get(user=alice).revoke()
    assert (
        call(Client(), "get", "/api/teams", None, Authorization=f"Bearer {token}").status_code
        == 401
    )
    bogus = "ato_" + "x" * 43
    assert (
        call(Client(), "get", "/api/teams", None, Authorization=f"Bearer {bogus}").status_code
        == 401
    )
