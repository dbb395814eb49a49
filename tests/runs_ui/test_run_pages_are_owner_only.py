"""Every run page shows a run to its owner only: others get 404, anonymous visitors the login."""

import pytest
from django.test import Client

from tests.factories import make_run


@pytest.mark.parametrize("page", ["", "audit/"])
def test_it_answers_404_for_another_users_run(alice_client: Client, bob, page: str) -> None:
    run = make_run(bob)
    response = alice_client.get(f"/runs/{run.id}/{page}")
    assert response.status_code == 404


@pytest.mark.parametrize("page", ["", "audit/"])
def test_it_answers_404_for_a_run_that_does_not_exist(alice_client: Client, page: str) -> None:
    response = alice_client.get(f"/runs/00000000-0000-0000-0000-000000000000/{page}")
    assert response.status_code == 404


@pytest.mark.parametrize("url", ["/runs/", "/dashboard/"])
def test_it_sends_anonymous_visitors_to_log_in(db, url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_it_lists_only_the_users_own_runs(alice_client: Client, alice, bob) -> None:
    mine = make_run(alice, team_name="Mine")
    theirs = make_run(bob, team_name="Theirs")
    response = alice_client.get("/runs/")
    assert str(mine.id) in response.text
    assert str(theirs.id) not in response.text
