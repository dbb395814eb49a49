"""A conversation as the API gives it: the list says of each what the whole conversation also
says (its version, whether it talks to a draft, its page, its dates), plus how many turns it
has; the whole one adds its team and its messages."""

from typing import Any

import pytest
from django.test import Client

from conversations.models import Conversation
from tests.factories import make_team, minimal_spec

pytestmark = [pytest.mark.django_db]


def test_the_list_and_the_conversation_say_the_same_of_it(alice: Any, alice_client: Client):
    team = make_team(alice, minimal_spec(name="Help desk"))
    started = alice_client.post(
        f"/api/teams/{team.id}/conversations", "{}", content_type="application/json"
    )
    conversation = Conversation.objects.get(pk=started.json()["id"])

    listed = alice_client.get(f"/api/teams/{team.id}/conversations").json()
    whole = alice_client.get(f"/api/conversations/{conversation.pk}").json()

    heading = {
        "id": conversation.pk,
        "title": conversation.title,
        "team_version": 1,
        "draft": False,
        "url": f"/conversations/{conversation.pk}/",
        "created_at": whole["created_at"],
        "updated_at": whole["updated_at"],
    }
    assert listed == [{**heading, "turns": 0}]
    assert whole == {**heading, "team_id": team.id, "team_name": "Help desk", "messages": []}
    assert started.json() == whole
