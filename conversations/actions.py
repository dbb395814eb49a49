"""Every change to a conversation (``do_*`` actions, as ``runs.actions``): start one, and
send a message, which starts the run that answers it.

A turn's run gets the conversation so far in its input (``runs.engine.conversation``): the
message, the messages since the last summary a run recorded, that summary, and the window of
tokens they must fit. The engine summarises what does not fit, so the web request never
waits on a model."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from runs.actions import admitted_run, new_run
from runs.engine.events import CONVERSATION_SUMMARISED
from runs.engine.structured import as_text
from runs.execution import enqueue
from runs.models import Run, RunEvent
from teams.models import Team, TeamVersion
from teams.validation import error

from .answers import readable
from .models import Conversation, Turn

#: What one message may hold (characters): a page of text, not a document to work on.
MAX_MESSAGE_CHARS = 20_000


def messages(count: int) -> str:
    return f"{count} message" if count == 1 else f"{count} messages"


class Busy(Exception):
    """The previous turn's run is still going (the API answers 409)."""


class Full(Exception):
    """The conversation holds ``CONVERSATION_MAX_TURNS`` messages (the API answers 409 with
    the problem code ``conversation_full``: start a new conversation)."""

    code = "conversation_full"

    @classmethod
    def problem(cls, message: str) -> dict[str, Any]:
        """The problem a refused message gets, by whose code a client offers a new one."""
        return error(cls.code, message, path="conversation").model_dump()


def do_start_conversation(
    owner: Any, team: Team, version: TeamVersion | None, draft: dict[str, Any] | None
) -> Conversation:
    """A conversation with ``version`` of ``team``, or with the unsaved ``draft`` of it."""
    return Conversation.objects.create(
        owner=owner,
        workspace_id=team.workspace_id,
        team=team,
        team_version=version,
        draft=draft if version is None else None,
    )


def do_send_message(conversation: Conversation, sender: Any, content: str) -> Run:
    """The run answering ``content``, queued once the transaction commits. ``Busy`` while
    the previous turn's run has not ended: an answer is built on the one before it; ``Full``
    once the conversation holds ``CONVERSATION_MAX_TURNS`` messages."""
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        turns = list(locked.turns.select_related("run"))
        limit = settings.CONVERSATION_MAX_TURNS
        if limit and len(turns) >= limit:
            raise Full(
                f"This conversation has reached its limit of {messages(limit)}; start a new "
                "conversation to go on."
            )
        last = turns[-1].run if turns else None
        if last is not None and not last.is_finished:
            raise Busy(
                "The answer to the previous message is still being written; wait for it "
                "to end, or cancel its run, before sending the next message."
            )
        task = turn_input(turns, content)
        fields = {"started_by": conversation.started_by}
        if conversation.team_version is not None:
            run = new_run(sender, conversation.team_version, task, **fields)
        else:
            run = admitted_run(sender, conversation.team, conversation.draft, task, **fields)
        Turn.objects.create(
            conversation=locked, number=len(turns) + 1, content=content, sent_by=sender, run=run
        )
        locked.title = locked.title or content.strip().splitlines()[0][:200]
        locked.save(update_fields=["title", "updated_at"])
        enqueue(run)
    return run


def answer_of(run: Run | None) -> str | None:
    """The assistant's answer in a turn, as the next turn's model reads it: its run's output
    once it succeeded (a structured answer as its JSON)."""
    if run is None or run.status != Run.Status.SUCCEEDED or run.output is None:
        return None
    return as_text(run.output)


def shown_answer(run: Run | None) -> str | None:
    """The same answer as a person reads it in a chat (``conversations.answers``)."""
    if run is None or run.status != Run.Status.SUCCEEDED or run.output is None:
        return None
    return readable(run.output)


def messages_of(turns: list[Turn]) -> list[dict[str, str]]:
    """The conversation as alternating messages; a turn whose run gave no answer has none.
    An answer longer than the whole window is cut to it: it would be summarised anyway, and
    a run's output (a report, a large JSON) must not grow every later turn's input."""
    limit = settings.CONVERSATION_WINDOW_TOKENS * 4  # about four characters a token
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": turn.content[:limit]})
        answer = answer_of(turn.run)
        if answer is not None:
            cut = answer if len(answer) <= limit else answer[:limit] + " [… cut]"
            messages.append({"role": "assistant", "content": cut})
    return messages


def turn_input(turns: list[Turn], content: str) -> dict[str, Any]:
    """The run input of a new message after ``turns`` (``runs.engine.conversation``)."""
    messages = messages_of(turns)
    summary = last_summary(turns)
    covers = summary["covers"] if summary else 0
    task: dict[str, Any] = {
        "message": content,
        "history": messages[covers:],
        "window_tokens": settings.CONVERSATION_WINDOW_TOKENS,
    }
    if summary is not None:
        task["summary"] = summary
    return task


def last_summary(turns: list[Turn]) -> dict[str, Any] | None:
    """The summary the latest turn that made one recorded (``conversation.summarised``)."""
    run_ids = [t.run_id for t in turns if t.run_id]
    found = dict(
        RunEvent.objects.filter(run_id__in=run_ids, type=CONVERSATION_SUMMARISED).values_list(
            "run_id", "payload"
        )
    )
    for run_id in reversed(run_ids):
        if run_id in found:
            return {"text": found[run_id]["summary"], "covers": found[run_id]["covers"]}
    return None
