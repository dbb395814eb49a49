"""The runs and teams lists preview a run's input by the text a person wrote (a ticket's
subject, a question, a diff's first line), not by its JSON; JSON only when there is no text."""

import re

import pytest
from django.test import Client

from tests.factories import make_run, make_team, minimal_spec

TICKET = {
    "sla": {"low": 86400, "high": 3600, "normal": 28800, "urgent": 900},
    "body": "Hi, my card was charged twice for the October invoice.",
    "email": "rosa@maplehealth.example",
    "subject": "Charged twice for October",
}


def previews(client: Client, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    return re.findall(r'class="muted input-preview"[^>]*>([^<]*)</span>', response.text)


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        (TICKET, "Charged twice for October"),
        ({"priority": "high", "question": "What is 6 * 7?"}, "What is 6 * 7?"),
        ({"repo": "shop", "diff": "\n--- a/app.py\n+++ b/app.py\n@@ -1 +1 @@\n-x\n+y\n"}, "--- a/app.py"),
        ({"ticket_text": "My  order\nis late"}, "My order is late"),
        ({"sla": {"low": 1}, "count": 3}, '{"sla": {"low": 1}, "count": 3}'),
    ],
)  # fmt: skip
def test_the_runs_list_shows_the_text_a_person_wrote(
    alice_client: Client, alice, given: dict, shown: str
) -> None:
    make_run(alice, input=given)
    assert previews(alice_client, "/runs/") == [shown.replace('"', "&quot;")]


def test_the_teams_list_shows_it_too(alice_client: Client, alice) -> None:
    team = make_team(alice, minimal_spec(name="Support triage"))
    make_run(alice, team, input=TICKET)
    assert previews(alice_client, "/teams/") == ["Charged twice for October"]
