"""Conversations on a real Celery worker, against the local OpenAI-compatible server: each
message's run brings the conversation so far to the entry agent, and a conversation longer
than its window is summarised by the team's model, the summary an event of the run that made
it and the start of the next turn."""

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from runs.models import Run, RunEvent
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import assert_sound_trail, logged_in, wait_for_status
from tests.runs.live import Worker
from tests.support.openai_server import ChatRequest, Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

SUMMARY = "Ada asked about the ledger and the invoices."


def answer(request: ChatRequest) -> Reply:
    """A summary when asked for one; else an answer naming the message it answers."""
    if "memory of a conversation" in request.system:
        return Reply.text(SUMMARY)
    return Reply.text(f"Answer to: {request.messages[-1]['content'][:40]}", delay_s=0.05)


def conversation_with_a_team(base_url: str) -> tuple[Client, int]:
    alice = make_user()
    make_model_config(alice, base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted",
            "instructions": "Answer the user."}  # fmt: skip
    team = make_team(alice, minimal_spec(nodes=[lead]))
    client = logged_in(alice)
    started = client.post(
        f"/api/teams/{team.id}/conversations", "{}", content_type="application/json"
    )
    assert started.status_code == 201, started.content
    return client, started.json()["id"]


def say(client: Client, conversation_id: int, content: str) -> Run:
    """Send a message and wait for the run that answers it to end."""
    sent = client.post(
        f"/api/conversations/{conversation_id}/messages",
        json.dumps({"content": content}),
        content_type="application/json",
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["started_by"] == f"conversation:{conversation_id}"
    run = wait_for_status(sent.json()["id"], "succeeded", "failed", within_s=90)
    assert run.status == "succeeded", run.failure_reason
    return run


def answering(requests: list[ChatRequest]) -> ChatRequest:
    """The first of a run's model calls that is not a summary: the entry agent's first."""
    return next(r for r in requests if "memory of a conversation" not in r.system)


def chat(request: ChatRequest) -> list[tuple[str, str]]:
    return [(m["role"], m.get("content") or "") for m in request.messages]


async def test_the_third_message_reaches_the_model_with_the_first_two_and_their_answers(
    openai_server: Any, worker: Worker
) -> None:
    openai_server.on(lambda r: True, answer)
    client, conversation_id = await sync_to_async(conversation_with_a_team)(openai_server.base_url)
    messages = ["What is in the ledger?", "And the invoices?", "Summarise both for me."]
    runs, before = [], 0
    for content in messages:
        before = len(openai_server.log)
        runs.append(await sync_to_async(say)(client, conversation_id, content))

    # The runs are one after the other: the third's calls are the last in the server's log.
    third_calls = openai_server.log[before:]
    assert len(third_calls) == 1  # no summary was needed
    assert chat(third_calls[0])[1:] == [
        ("user", "What is in the ledger?"),
        ("assistant", "Answer to: What is in the ledger?"),
        ("user", "And the invoices?"),
        ("assistant", "Answer to: And the invoices?"),
        ("user", "Summarise both for me."),
    ]
    read = await sync_to_async(lambda: client.get(f"/api/conversations/{conversation_id}"))()
    assert read.status_code == 200
    turns = read.json()["messages"]
    assert [(m["role"], m["content"]) for m in turns] == [
        ("user", messages[0]), ("assistant", "Answer to: What is in the ledger?"),
        ("user", messages[1]), ("assistant", "Answer to: And the invoices?"),
        ("user", messages[2]), ("assistant", "Answer to: Summarise both for me."),
    ]  # fmt: skip
    assert [m["run_id"] for m in turns] == [str(r.id) for r in runs for _ in "ua"]
    assert all(m["status"] == "succeeded" for m in turns)
    assert turns[1]["run_url"] == f"/runs/{runs[0].id}/"
    assert turns[1]["audit_url"] == f"/runs/{runs[0].id}/audit/"
    for run in runs:
        await sync_to_async(assert_sound_trail)(run)


async def test_a_conversation_past_its_window_is_summarised_and_the_summary_carried_on(
    openai_server: Any, worker: Worker, settings: Any
) -> None:
    settings.CONVERSATION_WINDOW_TOKENS = 100  # about 400 characters
    openai_server.on(lambda r: True, answer)
    client, conversation_id = await sync_to_async(conversation_with_a_team)(openai_server.base_url)
    first = "Tell me about the ledger. " + "It has many rows. " * 10  # ~ 50 tokens
    second = "Now the invoices. " + "There are dozens. " * 10
    third = "What did we say so far?"

    await sync_to_async(say)(client, conversation_id, first)
    second_run = await sync_to_async(say)(client, conversation_id, second)
    before = len(openai_server.log)
    third_run = await sync_to_async(say)(client, conversation_id, third)

    # The second turn did not fit: the first message was summarised, on that run.
    [summarised] = await sync_to_async(
        lambda: list(RunEvent.objects.filter(run=second_run, type="conversation.summarised"))
    )()
    assert summarised.payload["summary"] == SUMMARY
    assert summarised.payload["messages_summarised"] >= 1
    asked = [r for r in openai_server.log if "memory of a conversation" in r.system]
    assert "Tell me about the ledger." in asked[0].user
    # The third turn starts from that summary, and the first message is no longer sent.
    assert third_run.input["summary"]["text"] == SUMMARY
    assert third_run.input["summary"]["covers"] >= 1
    said = chat(answering(openai_server.log[before:]))
    assert SUMMARY in said[1][1] and said[1][0] == "user"
    assert ("user", first) not in said and ("user", second) in said
    assert said[-1] == ("user", third)
