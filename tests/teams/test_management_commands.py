"""``createapitoken`` prints a working token last; ``bootstrap`` makes a demo user once."""

from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client

from tests.factories import make_user

pytestmark = pytest.mark.django_db


def test_createapitoken_prints_a_working_token_on_its_last_line() -> None:
    make_user("alice")
    out = StringIO()
    call_command("createapitoken", "alice", "--name", "ci", stdout=out, stderr=StringIO())
    token = out.getvalue().strip().splitlines()[-1]
    response = Client().get("/api/teams", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_createapitoken_refuses_an_unknown_user() -> None:
    with pytest.raises(CommandError, match="No active user called 'nobody'"):
        call_command("createapitoken", "nobody", stdout=StringIO(), stderr=StringIO())


def test_bootstrap_creates_a_demo_user_once_and_prints_how_to_log_in() -> None:
    out = StringIO()
    call_command("bootstrap", stdout=out)
    printed = out.getvalue()
    password = printed.split("password: ")[1].split()[0]
    assert Client().login(username="demo", password=password)
    call_command("bootstrap", stdout=StringIO())
    assert User.objects.count() == 1
