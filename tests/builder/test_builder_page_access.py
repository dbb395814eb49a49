"""Who may open a team's builder page."""

import pytest
from django.test import Client

from tests.factories import make_team, make_user


@pytest.mark.django_db
def test_it_mounts_the_canvas_for_the_owner(client: Client):
    alice = make_user("alice")
    team = make_team(alice)
    client.force_login(alice)
    response = client.get(f"/teams/{team.pk}/builder/")
    assert response.status_code == 200
    assert f'data-team-id="{team.pk}"' in response.content.decode()
    assert b'<script type="module" src="/static/app/assets/builder-' in response.content
    # The canvas sends the CSRF cookie back with every save.
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_it_hides_another_users_team(client: Client):
    team = make_team(make_user("alice"))
    client.force_login(make_user("bob"))
    assert client.get(f"/teams/{team.pk}/builder/").status_code == 404


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_log_in(client: Client):
    team = make_team(make_user("alice"))
    response = client.get(f"/teams/{team.pk}/builder/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
