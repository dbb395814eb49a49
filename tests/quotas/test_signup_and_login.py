"""Who may make an account is the operator's choice (SIGNUP=closed|invite|open), and guessing
passwords or making accounts in bulk is throttled per address and per username."""

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from accounts.models import Invitation
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a long enough pass phrase"


def sign_up(client: Client, username: str, invite: str | None = None) -> Any:
    form = {"username": username, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    if invite is not None:
        form["invite"] = invite
    return client.post("/signup/", form)


def invite_token(capsys: pytest.CaptureFixture[str]) -> str:
    call_command("createinvite", "--note", "for carol")
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert "/signup/?invite=" in link
    return link.split("invite=")[1]


def test_production_closes_sign_up_unless_the_operator_opens_it() -> None:
    from django.conf import settings

    # the test settings are production's (DEBUG off) and SIGNUP is unset
    assert settings.SIGNUP == "closed"


def test_closed_sign_up_makes_no_account(settings: Any) -> None:
    settings.SIGNUP = "closed"
    client = Client()
    assert client.get("/signup/").status_code == 403
    response = sign_up(client, "mallory")
    assert response.status_code == 403
    assert "Sign-up is closed" in response.content.decode()
    assert not User.objects.filter(username="mallory").exists()
    # the log-in page offers no sign-up link
    assert "/signup/" not in client.get("/login/").content.decode()


def test_invite_only_needs_a_link_that_works_once(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SIGNUP = "invite"
    # without a token, or with a made-up one: refused
    assert sign_up(Client(), "mallory").status_code == 403
    assert sign_up(Client(), "mallory", invite="inv_madeup").status_code == 403
    token = invite_token(capsys)
    # the link opens the form, and carol signs up with it
    page = Client().get(f"/signup/?invite={token}")
    assert page.status_code == 200 and token in page.content.decode()
    assert (
        sign_up(Client(), "carol", invite=token).url == "/"
    )  # the start page, which leads on by role
    assert Invitation.objects.get().used_by == User.objects.get(username="carol")
    # a second person with the same link is refused
    assert sign_up(Client(), "mallory", invite=token).status_code == 403
    assert not User.objects.filter(username="mallory").exists()


def test_an_expired_invitation_does_not_work(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.SIGNUP = "invite"
    settings.INVITE_VALID_DAYS = -1
    token = invite_token(capsys)
    assert sign_up(Client(), "carol", invite=token).status_code == 403


def test_open_sign_up_is_throttled_per_address(settings: Any) -> None:
    settings.SIGNUP = "open"
    settings.SIGNUP_RATE_PER_IP = "2/hour"
    for name in ("bot1", "bot2"):
        assert sign_up(Client(), name).status_code == 302
    response = sign_up(Client(), "bot3")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 3000
    assert not User.objects.filter(username="bot3").exists()


def test_guessing_one_persons_password_is_throttled(settings: Any) -> None:
    settings.LOGIN_RATE_PER_USERNAME = "3/15 minutes"
    make_user("alice")
    make_user("bob")
    # an attacker tries passwords for alice from ever new addresses
    for n in range(3):
        guess = Client(REMOTE_ADDR=f"203.0.113.{n}")
        assert guess.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    refused = Client(REMOTE_ADDR="203.0.113.9").post(
        "/login/", {"username": "Alice", "password": PASSWORD}
    )
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # even the right password is not checked while it lasts; bob logs in as usual
    bob = Client().post("/login/", {"username": "bob", "password": PASSWORD})
    assert bob.status_code == 302


def test_guessing_from_one_address_is_throttled(settings: Any) -> None:
    settings.LOGIN_RATE_PER_IP = "3/10 minutes"
    make_user("alice")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for name in ("alice", "bob", "carol"):
        attacker.post("/login/", {"username": name, "password": "wrong"})
    assert attacker.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    other = Client(REMOTE_ADDR="198.51.100.1")
    assert other.post("/login/", {"username": "alice", "password": PASSWORD}).status_code == 302
