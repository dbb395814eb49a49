"""Bad input and the wrong people get a clear answer and change nothing: an empty message,
a message while the last answer is still being written, a conversation that is not there or
is another workspace's, a viewer who may read but not send, a draft with errors, and a runner
who may send but not run a draft of their own making."""

import json
from typing import Any

import pytest
from django.test import Client

from conversations.models import Conversation, Turn
from runs.models import Run
from tests.factories import make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in
from workspaces.models import Membership

pytestmark = [pytest.mark.django_db]


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.fixture
def team(alice: Any) -> Any:
    return make_team(alice, minimal_spec())


@pytest.fixture
def conversation_id(alice_client: Client, team: Any) -> int:
    started = post(alice_client, f"/api/teams/{team.id}/conversations", {})
    assert started.status_code == 201, started.content
    return started.json()["id"]


def member(team: Any, role: str) -> Client:
    user = make_user(f"the-{role}")
    Membership.objects.create(workspace=team.workspace, user=user, role=role)
    return logged_in(user)


@pytest.mark.parametrize("content", ["", "   \n\t "])
def test_it_refuses_an_empty_message(alice_client: Client, conversation_id: int, content: str):
    sent = post(
        alice_client, f"/api/conversations/{conversation_id}/messages", {"content": content}
    )

    assert sent.status_code == 422
    assert "empty" in json.dumps(sent.json()["problems"])
    assert Run.objects.count() == 0 and Turn.objects.count() == 0


def test_it_refuses_a_message_without_content(alice_client: Client, conversation_id: int):
    sent = post(alice_client, f"/api/conversations/{conversation_id}/messages", {"text": "Hi"})

    assert sent.status_code == 422
    assert Turn.objects.count() == 0


def test_it_refuses_a_message_longer_than_a_page(alice_client: Client, conversation_id: int):
    sent = post(
        alice_client, f"/api/conversations/{conversation_id}/messages", {"content": "x" * 20_001}
    )

    assert sent.status_code == 422
    assert Turn.objects.count() == 0


def test_a_second_message_waits_for_the_first_answer(alice_client: Client, conversation_id: int):
    url = f"/api/conversations/{conversation_id}/messages"
    first = post(alice_client, url, {"content": "Hello"})
    assert first.status_code == 201  # its run stays queued: nothing executes in this test

    second = post(alice_client, url, {"content": "Are you there?"})

    assert second.status_code == 409
    assert "still being written" in second.json()["detail"]
    assert list(Turn.objects.values_list("content", flat=True)) == ["Hello"]
    assert Run.objects.count() == 1


def test_a_conversation_stops_at_its_limit_of_messages(
    alice_client: Client, conversation_id: int, settings: Any
):
    # Every message is a run that reads the conversation again: a script must not grow one
    # without end. Past CONVERSATION_MAX_TURNS the person is told to start a new one.
    settings.CONVERSATION_MAX_TURNS = 2
    url = f"/api/conversations/{conversation_id}/messages"
    for content in ("Hello", "And then?"):
        assert post(alice_client, url, {"content": content}).status_code == 201
        Run.objects.update(status=Run.Status.SUCCEEDED, output="An answer.")

    refused = post(alice_client, url, {"content": "And then?"})

    assert refused.status_code == 409, refused.content
    assert "start a new conversation" in refused.json()["detail"]
    assert refused.json()["problems"][0]["code"] == "conversation_full"
    assert Turn.objects.count() == 2 and Run.objects.count() == 2


def test_no_limit_of_messages_when_it_is_0(
    alice_client: Client, conversation_id: int, settings: Any
):
    settings.CONVERSATION_MAX_TURNS = 0
    url = f"/api/conversations/{conversation_id}/messages"
    for n in range(3):
        assert post(alice_client, url, {"content": f"Message {n}"}).status_code == 201
        Run.objects.update(status=Run.Status.SUCCEEDED, output="An answer.")
    assert Turn.objects.count() == 3


def test_an_unknown_conversation_is_a_404(alice_client: Client):
    read = alice_client.get("/api/conversations/999999")
    sent = post(alice_client, "/api/conversations/999999/messages", {"content": "Hi"})

    assert read.status_code == sent.status_code == 404
    assert read.json()["detail"] == "Conversation 999999 was not found."


def test_another_workspaces_conversation_is_a_404_like_a_missing_one(
    bob: Any, conversation_id: int
):
    bob_client = logged_in(bob)

    read = bob_client.get(f"/api/conversations/{conversation_id}")
    sent = post(bob_client, f"/api/conversations/{conversation_id}/messages", {"content": "Hi"})
    page = bob_client.get(f"/conversations/{conversation_id}/")

    assert read.status_code == sent.status_code == page.status_code == 404
    assert read.json()["detail"] == f"Conversation {conversation_id} was not found."
    assert Turn.objects.count() == 0


def test_a_viewer_reads_but_may_not_send(team: Any, conversation_id: int):
    viewer = member(team, "viewer")

    read = viewer.get(f"/api/conversations/{conversation_id}")
    sent = post(viewer, f"/api/conversations/{conversation_id}/messages", {"content": "Hi"})
    started = post(viewer, f"/api/teams/{team.id}/conversations", {})

    assert read.status_code == 200
    assert sent.status_code == started.status_code == 403
    assert "runner" in sent.json()["detail"]
    assert Turn.objects.count() == 0 and Conversation.objects.count() == 1


def test_a_draft_is_validated_as_a_saved_team_is(alice_client: Client, team: Any):
    broken = minimal_spec(entry="nobody")

    started = post(alice_client, f"/api/teams/{team.id}/conversations", {"spec": broken})

    assert started.status_code == 422
    assert started.json()["problems"], started.json()
    assert Conversation.objects.count() == 0


def test_a_runner_may_not_talk_to_a_draft_of_their_own(team: Any):
    # A runner may start runs of what builders saved, not run a team document they wrote.
    runner = member(team, "runner")
    draft = minimal_spec(name="Not what was saved")

    started = post(runner, f"/api/teams/{team.id}/conversations", {"spec": draft})
    saved = post(runner, f"/api/teams/{team.id}/conversations", {})

    assert started.status_code == 403
    assert "editor" in started.json()["detail"]
    assert saved.status_code == 201


def test_a_runner_may_not_send_to_a_draft_an_editor_started(alice_client: Client, team: Any):
    started = post(alice_client, f"/api/teams/{team.id}/conversations", {"spec": minimal_spec()})
    runner = member(team, "runner")

    sent = post(runner, f"/api/conversations/{started.json()['id']}/messages", {"content": "Hi"})

    assert sent.status_code == 403
    assert Turn.objects.count() == 0 and Run.objects.count() == 0


def test_a_message_with_a_nul_character_is_refused(alice_client: Client, conversation_id: int):
    sent = post(
        alice_client, f"/api/conversations/{conversation_id}/messages", {"content": "a\u0000b"}
    )

    assert sent.status_code == 422
    assert Turn.objects.count() == 0


def test_a_huge_answer_is_cut_to_the_window_in_the_next_input(
    alice_client: Client, conversation_id: int, settings: Any
):
    settings.CONVERSATION_WINDOW_TOKENS = 100
    url = f"/api/conversations/{conversation_id}/messages"
    first = post(alice_client, url, {"content": "Write a long report"})
    Run.objects.filter(id=first.json()["id"]).update(status="succeeded", output="r" * 100_000)

    second = post(alice_client, url, {"content": "Thanks"})

    history = Run.objects.get(id=second.json()["id"]).input["history"]
    assert history[0] == {"role": "user", "content": "Write a long report"}
    assert history[1]["content"] == "r" * 400 + " [… cut]"


def test_a_draft_conversation_runs_the_draft(alice_client: Client, team: Any):
    draft = minimal_spec(name="Draft desk")

    started = post(alice_client, f"/api/teams/{team.id}/conversations", {"spec": draft})
    sent = post(
        alice_client, f"/api/conversations/{started.json()['id']}/messages", {"content": "Hi"}
    )

    assert started.status_code == 201 and started.json()["draft"] is True
    assert sent.status_code == 201
    run = Run.objects.get(id=sent.json()["id"])
    assert run.spec["name"] == "Draft desk" and run.team_version is None
    assert run.input == {"message": "Hi", "history": [], "window_tokens": 3000}


def test_an_unknown_version_is_a_404(alice_client: Client, team: Any):
    started = post(alice_client, f"/api/teams/{team.id}/conversations", {"version": 7})

    assert started.status_code == 404
    assert Conversation.objects.count() == 0
