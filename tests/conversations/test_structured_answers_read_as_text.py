"""A team whose final agent has an output schema answers with a JSON object; a person reads
its text field (and the other fields as ``Label: value`` lines) on the conversation page, in
the builder's chat panel and the widget, never raw JSON, and never markup a model wrote as
HTML. The next turn's model still reads the JSON."""

import json
import re
from typing import Any

import pytest
from django.test import Client

from conversations.answers import readable
from runs.models import Run
from tests.factories import make_team, minimal_spec
from tests.publishing.helpers import publish

pytestmark = [pytest.mark.django_db]


@pytest.mark.parametrize(
    ("output", "shown"),
    [
        ("Plain words stay as they are.", "Plain words stay as they are."),
        # The only text field is the message; the other fields follow.
        ({"comment": "Looks good.", "score": 4, "ok": True}, "Looks good.\n\nOk: true\nScore: 4"),
        ({"comment": "Only this."}, "Only this."),
        # Several text fields: the first of the usual names is the message.
        (
            {"risk_level": "low", "summary": "Nothing to fix.", "owner": "ada"},
            "Nothing to fix.\n\nOwner: ada\nRisk level: low",
        ),
        ({"answer": "A", "reply": "B"}, "A\n\nReply: B"),
        # No obvious text field: every field on its own line.
        ({"title": "T", "owner": "ada"}, "Owner: ada\nTitle: T"),
        ({"total": 12.5, "tags": ["a", "b"]}, "Tags: a, b\nTotal: 12.5"),
        ({"answer": "Yes", "found": {"x": 1}}, 'Yes\n\nFound: {"x": 1}'),
        (["one", 2, None], "- one\n- 2\n- null"),
        (42, "42"),
    ],
)
def test_the_rule(output: Any, shown: str) -> None:
    assert readable(output) == shown


def post(client: Client, url: str, body: Any, **headers: str) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json", **headers)


def answered(client: Client, team: Any, output: Any) -> int:
    """A conversation whose one message its run answered with ``output``."""
    conversation = post(client, f"/api/teams/{team.id}/conversations", {}).json()["id"]
    sent = post(client, f"/api/conversations/{conversation}/messages", {"content": "Review it"})
    Run.objects.filter(id=sent.json()["id"]).update(status="succeeded", output=output)
    return conversation


EVIL = '<img src=x onerror="window.pwned = true">'


def test_the_api_and_the_page_show_the_text_field_and_the_model_reads_json(
    alice: Any, alice_client: Client
) -> None:
    team = make_team(alice, minimal_spec())
    output = {"comment": f"Fine, but {EVIL}", "severity": "low", "issues": 0}
    conversation = answered(alice_client, team, output)

    read = alice_client.get(f"/api/conversations/{conversation}").json()
    answer = read["messages"][1]
    assert answer["content"] == f"Fine, but {EVIL}\n\nIssues: 0\nSeverity: low"
    assert answer["output"] == output  # as the team gave it, for programs
    assert read["messages"][0]["output"] is None

    page = alice_client.get(f"/conversations/{conversation}/").content.decode()
    [asked, shown] = re.findall(r"<div class=\"chat-text\">(.*?)</div>", page, re.S)
    assert asked == "Review it"
    assert shown == (
        "Fine, but &lt;img src=x onerror=&quot;window.pwned = true&quot;&gt;"
        "\n\nIssues: 0\nSeverity: low"
    )
    assert "<img" not in page

    # The next message's run gets the answer as the JSON the model wrote.
    sent = post(alice_client, f"/api/conversations/{conversation}/messages", {"content": "OK"})
    history = Run.objects.get(id=sent.json()["id"]).input["history"]
    assert json.loads(history[1]["content"]) == output


@pytest.mark.usefixtures("dispatched")
def test_the_chat_widget_shows_the_text_field_too(alice: Any, alice_client: Client) -> None:
    team = make_team(alice, minimal_spec(name="Shop help"))
    publish(alice_client, team, "shop-help", widget_origins=["https://shop.example.com"])
    visitor = {"HTTP_ORIGIN": "https://shop.example.com"}
    token = Client().post("/p/shop-help/widget/conversations", **visitor).json()["token"]
    visitor["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    url = "/p/shop-help/widget/conversation"
    post(Client(), f"{url}/messages", {"content": "Where is my parcel?"}, **visitor)
    Run.objects.update(status="succeeded", output={"reply": "In Lyon.", "eta_days": 2})
    messages = Client().get(url, **visitor).json()["messages"]
    assert messages[1]["content"] == "In Lyon.\n\nEta days: 2"
