"""The team pages: list with create, rename, duplicate, delete, and the read-only view."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.models import Team
from tests.factories import make_team, make_user, supervisor_spec

pytestmark = pytest.mark.django_db


def test_home_sends_people_to_the_team_list_or_the_login(alice: User, alice_client: Client) -> None:
    assert alice_client.get("/").url == "/start/"  # no team yet: the start page
    make_team(alice, supervisor_spec())
    assert alice_client.get("/").url == "/teams/"
    assert Client().get("/").url.startswith("/login/")
    assert Client().get("/teams/").url.startswith("/login/")


def test_it_lists_only_my_teams(alice: User, alice_client: Client) -> None:
    make_team(alice, supervisor_spec(name="Mine"))
    make_team(make_user("bob"), supervisor_spec(name="Bobs"))
    page = alice_client.get("/teams/").content.decode()
    assert "Mine" in page and "Bobs" not in page


def test_it_creates_a_team_from_the_form_and_opens_the_builder(alice_client: Client) -> None:
    response = alice_client.post("/teams/", {"name": "Pipeline one", "pattern": "pipeline"})
    team = Team.objects.get()
    assert response.url == f"/teams/{team.pk}/builder/"
    assert (team.name, team.pattern, team.version, team.is_valid) == (
        "Pipeline one",
        "pipeline",
        1,
        True,
    )


def test_it_shows_a_teams_agents_edges_and_problems(alice: User, alice_client: Client) -> None:
    spec = supervisor_spec()
    spec["nodes"][1]["tools"] = ["calculator"]  # never mentioned: a warning
    team = make_team(alice, spec)
    page = alice_client.get(f"/teams/{team.pk}/").content.decode()
    assert "<code>worker</code>" in page and "delegates" in page
    assert "never mention it" in page


def test_it_escapes_what_people_typed(alice: User, alice_client: Client) -> None:
    team = make_team(alice, supervisor_spec(name="<script>alert(1)</script>"))
    for url in ("/teams/", f"/teams/{team.pk}/"):
        page = alice_client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_renames_as_a_new_version(alice: User, alice_client: Client) -> None:
    team = make_team(alice, supervisor_spec())
    alice_client.post(f"/teams/{team.pk}/rename/", {"name": "Renamed"})
    team.refresh_from_db()
    assert (team.name, team.spec["name"], team.version) == ("Renamed", "Renamed", 2)


def test_it_duplicates_and_deletes(alice: User, alice_client: Client) -> None:
    team = make_team(alice, supervisor_spec(name="Original"))
    alice_client.post(f"/teams/{team.pk}/duplicate/")
    copy = Team.objects.exclude(pk=team.pk).get()
    assert copy.name == "Copy of Original" and copy.spec["nodes"] == team.spec["nodes"]
    alice_client.post(f"/teams/{team.pk}/delete/")
    assert list(Team.objects.values_list("pk", flat=True)) == [copy.pk]


@pytest.mark.parametrize("action", ["", "rename/", "duplicate/", "delete/"])
def test_another_users_team_is_404_on_every_page(alice: User, action: str) -> None:
    team = make_team(alice)
    bob = Client()
    bob.force_login(make_user("bob"))
    response = (
        bob.post(f"/teams/{team.pk}/{action}", {"name": "x"})
        if action
        else bob.get(f"/teams/{team.pk}/")
    )
    assert response.status_code == 404
    assert Team.objects.filter(pk=team.pk, version=1).exists()


def test_every_form_carries_a_csrf_token(alice: User, alice_client: Client) -> None:
    team = make_team(alice)
    for url in ("/teams/", f"/teams/{team.pk}/", "/settings/tokens/", "/settings/models/"):
        page = alice_client.get(url).content.decode()
        assert page.count("<form") == page.count("csrfmiddlewaretoken"), url
