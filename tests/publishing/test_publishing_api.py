"""Publishing in the JSON API: a valid version goes up under a free slug; publishing again
under the team's slug moves it to another version; keys are listed by their hints only."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.services import save_spec
from teams.spec import parse
from tests.factories import minimal_spec

from .helpers import INPUT_SCHEMA, issue_key, make_asking_team, publish

pytestmark = pytest.mark.django_db


def post(client: Client, team: Any, body: dict[str, Any]) -> Any:
    return client.post(f"/api/teams/{team.id}/publish", body, content_type="application/json")


def test_a_publication_is_listed_with_its_urls(alice: User, alice_client: Client) -> None:
    team = make_asking_team(alice)
    made = publish(alice_client, team, "help-desk")
    assert made["runs_url"].endswith("/p/help-desk/runs") and made["mcp_url"].endswith("/mcp/")
    assert made["rate_limit"] == "60/minute" and made["live"] is True
    assert made["published_by"] == "alice"

    listed = alice_client.get(f"/api/teams/{team.id}/publications").json()
    assert [p["slug"] for p in listed] == ["help-desk"]


def test_keys_are_listed_by_hint_never_in_full(alice: User, alice_client: Client) -> None:
    made = publish(alice_client, make_asking_team(alice), "help-desk")
    key = issue_key(alice_client, made)
    listed = alice_client.get(f"/api/publications/{made['id']}/keys")
    assert listed.status_code == 200
    assert listed.json()[0]["hint"] == key[:10]
    assert key not in listed.content.decode()


def test_publishing_again_moves_the_slug_to_another_version(
    alice: User, alice_client: Client
) -> None:
    team = make_asking_team(alice)
    first = publish(alice_client, team, "help-desk")
    save_spec(team, parse(minimal_spec(name="Help desk 2", input_schema=INPUT_SCHEMA)), by=alice)
    team.refresh_from_db()
    again = publish(alice_client, team, "help-desk")
    assert again["id"] == first["id"] and again["version"] == 2


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"version": 9, "slug": "help-desk"}, "no version 9"),
        ({"version": 1, "slug": "Not A Slug"}, "slug"),
        ({"version": 1, "slug": "help-desk", "rate_limit": "lots"}, "not a rate"),
    ],
)
def test_a_bad_publication_is_refused(
    alice: User, alice_client: Client, body: dict[str, Any], says: str
) -> None:
    response = post(alice_client, make_asking_team(alice), body)
    assert response.status_code == 422, response.content
    assert says in str(response.json())


def test_a_slug_of_another_team_is_taken(alice: User, alice_client: Client) -> None:
    publish(alice_client, make_asking_team(alice, "First"), "help-desk")
    response = post(
        alice_client, make_asking_team(alice, "Second"), {"version": 1, "slug": "help-desk"}
    )
    assert response.status_code == 422
    assert "is taken" in response.json()["detail"]


def test_a_draft_with_problems_cannot_be_published(alice: User, alice_client: Client) -> None:
    from tests.factories import make_team

    team = make_team(alice, minimal_spec(entry="nobody"), draft=True)
    response = post(alice_client, team, {"version": 1, "slug": "broken"})
    assert response.status_code == 422
    assert "has problems" in response.json()["detail"]


def test_another_users_team_and_publication_are_404(
    alice: User, alice_client: Client, bob: User
) -> None:
    made = publish(alice_client, make_asking_team(alice), "help-desk")
    bob_client = Client()
    bob_client.force_login(bob)
    assert (
        post(bob_client, make_asking_team(alice, "Other"), {"version": 1, "slug": "x"}).status_code
        == 404
    )
    assert bob_client.delete(f"/api/publications/{made['id']}").status_code == 404
    assert (
        bob_client.post(
            f"/api/publications/{made['id']}/keys",
            {"name": "mine"},
            content_type="application/json",
        ).status_code
        == 404
    )


def test_the_publish_page_holds_to_the_key_cap_too(
    alice: User, alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each key has a rate of its own, so keys past the cap multiply the publication's rate;
    # the API refused them, the page's form issued them anyway.
    from publishing import actions

    monkeypatch.setattr(actions, "MAX_KEYS", 2)
    made = publish(alice_client, make_asking_team(alice), "help-desk")
    issue_key(alice_client, made, "one")
    issue_key(alice_client, made, "two")

    page = alice_client.post(f"/publications/{made['id']}/keys/", {"name": "three"}, follow=True)

    assert "at most 2 keys" in page.content.decode()
    names = [k["name"] for k in alice_client.get(f"/api/publications/{made['id']}/keys").json()]
    assert sorted(names) == ["one", "two"]
