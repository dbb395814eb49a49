"""The run list and the team list say what each run was asked and, when it failed, why: the
input cut to a line and escaped, the reason under the status."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import make_run_of, make_supervisor_team

pytestmark = pytest.mark.django_db

HOSTILE = "<img src=x onerror=alert(1)> " + "a long question " * 20


def test_the_run_list_shows_the_input_escaped_and_cut_and_why_a_run_failed(
    alice: User, alice_client: Client
) -> None:
    team = make_supervisor_team(alice)
    make_run_of(
        team,
        status="failed",
        input={"task": HOSTILE},
        failure_reason="The model m cannot be used: its secret may only be sent to api.example.com.",
    )
    make_run_of(team, status="succeeded", input={"a": 1, "b": "two"})

    page = alice_client.get("/runs/").content.decode()

    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "a long question " * 20 not in page  # cut to a line
    assert "may only be sent to api.example.com." in page
    assert "{&quot;a&quot;: 1, &quot;b&quot;: &quot;two&quot;}" in page  # several fields: JSON


def test_the_team_list_shows_each_teams_last_run(alice: User, alice_client: Client) -> None:
    team = make_supervisor_team(alice)
    make_supervisor_team(alice, name="Never run")
    make_run_of(team, status="succeeded", input={"task": "old one"})
    make_run_of(
        team,
        status="failed",
        input={"task": "Price the <b>order</b>"},
        failure_reason="Budget reached.",
    )

    page = alice_client.get("/teams/").content.decode()

    assert "Price the &lt;b&gt;order&lt;/b&gt;" in page and "old one" not in page
    assert "Budget reached." in page and "Not run yet" in page
    assert f'href="/teams/{team.pk}/builder/?run=1"' in page  # Run
    assert f'href="/teams/{team.pk}/builder/"' in page  # Open builder
