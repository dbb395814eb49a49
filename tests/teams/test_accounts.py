"""Accounts: sign-up, log-in and log-out pages; API tokens made and revoked in the UI."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.models import ApiToken, ModelConfig
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_a_person_signs_up_and_is_logged_in(settings: Any) -> None:
    settings.SIGNUP = "open"
    client = Client()
    password = "a long enough pass phrase"
    response = client.post(
        "/signup/",
        {
            "username": "carol",
            "email": "c@example.org",
            "password1": password,
            "password2": password,
        },
    )
    assert response.url == "/" and client.get("/").url == "/start/"  # no team yet: start here
    assert client.get("/teams/").status_code == 200


def test_a_weak_password_is_refused_with_a_reason(settings: Any) -> None:
    settings.SIGNUP = "open"
    response = Client().post(
        "/signup/", {"username": "dave", "password1": "123", "password2": "123"}
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert not User.objects.filter(username="dave").exists()


def test_log_in_and_log_out() -> None:
    make_user("alice")
    client = Client()
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.url == "/" and client.get("/").url == "/start/"
    assert client.post("/logout/").status_code == 302
    assert client.get("/teams/").status_code == 302


def test_a_token_made_in_the_ui_works_once_shown_and_stops_when_revoked(
    alice: User, alice_client: Client
) -> None:
    page = alice_client.post("/settings/tokens/", {"name": "laptop"}).content.decode()
    row = ApiToken.objects.get(user=alice)
    token = page.split('<code id="new-token">')[1].split("</code>")[0]
    assert token.startswith(row.hint)
    auth = {"Authorization": f"Bearer {token}"}
    assert Client().get("/api/teams", headers=auth).status_code == 200
    assert token not in alice_client.get("/settings/tokens/").content.decode()  # shown once

    alice_client.post(f"/settings/tokens/{row.pk}/revoke/")
    assert Client().get("/api/teams", headers=auth).status_code == 401


def test_nobody_revokes_another_users_token(alice: User) -> None:
    row, _ = ApiToken.issue(alice, "mine")
    bob = Client()
    bob.force_login(make_user("bob"))
    assert bob.post(f"/settings/tokens/{row.pk}/revoke/").status_code == 404
    row.refresh_from_db()
    assert row.revoked_at is None


def test_a_model_config_uses_an_operator_credential_never_a_variable(
    alice: User, alice_client: Client
) -> None:
    form = {
        "name": "local",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "credential": "test-server",
        "base_url": "http://127.0.0.1:8001/v1",
        "api_key_env": "SECRET_KEY",  # the old field: there is no such field any more
    }
    page = alice_client.get("/settings/models/").content.decode()
    assert "test-server" in page and "api_key_env" not in page
    alice_client.post("/settings/models/", form)
    config = ModelConfig.objects.get(owner=alice)
    assert config.credential == "test-server" and not hasattr(config, "api_key_env")
