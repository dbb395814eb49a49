"""Conversations in the JSON API: start one with a team (a saved version, or the builder's
unsaved draft), read its turns, send a message. Reading needs ``run.view``, sending
``run.start``; a conversation of a workspace you are not in is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count
from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, field_validator

from runs.api import ProblemsOut, get_run, invalid_version, team_version
from runs.models import Run
from runs.serializers import RunOut, run_out
from teams.api import get_team
from teams.models import Team
from teams.schemas import ErrorOut
from teams.services import SpecRejected, check, parse_document, unresolved_problem
from teams.spec import dump
from teams.validation import UnresolvedTeam
from workspaces import access, operations
from workspaces.operations import requires

from . import actions
from .models import Conversation, Turn

router = Router(tags=["conversations"])


class ConversationIn(Schema):
    version: int | None = Field(
        None, ge=1, le=2**31 - 1, description="The team version to talk to; the latest if null."
    )
    spec: dict[str, Any] | None = Field(
        None,
        description="The builder's unsaved draft TeamSpec to talk to instead of a saved "
        "version (the playground); validated as a saved team is, and it needs the "
        "`team.edit` permission too.",
    )


class MessageIn(Schema):
    content: str = Field(..., max_length=actions.MAX_MESSAGE_CHARS, description="The message.")

    @field_validator("content")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("Write a message: it is empty.")
        return value


class MessageOut(Schema):
    role: str = Field(description="`user` or `assistant`.")
    content: str | None = Field(
        description="The text; null for an answer not written (yet). A structured answer (a "
        "JSON object) reads as its text field, then its other fields one `Label: value` line "
        "each (docs/running-and-watching.md); `output` has it as the team gave it."
    )
    output: Any = Field(
        None,
        description="An answer as its run gave it: text, or the JSON value of a structured one.",
    )
    turn: int
    run_id: str | None
    status: str = Field(
        description="The run's status (queued, running, waiting, succeeded, failed, cancelled)."
    )
    failure_reason: str = ""
    run_url: str | None = Field(None, description="The run's timeline page.")
    audit_url: str | None = Field(None, description="The run's audit trail page.")
    created_at: datetime


class ConversationOut(Schema):
    id: int
    team_id: int
    team_name: str
    team_version: int | None = Field(description="The version it talks to; null for a draft.")
    draft: bool
    title: str
    url: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]


class ConversationSummaryOut(Schema):
    id: int
    title: str
    team_version: int | None
    draft: bool
    turns: int
    url: str
    created_at: datetime
    updated_at: datetime


def messages_out(turn: Turn) -> list[dict[str, Any]]:
    run: Run | None = turn.run
    links: dict[str, Any] = {"run_id": None, "run_url": None, "audit_url": None}
    if run is not None:
        links = {
            "run_id": str(run.id),
            "run_url": reverse("run-detail", args=[run.id]),
            "audit_url": reverse("run-audit", args=[run.id]),
        }
    status = run.status if run is not None else "deleted"
    user = {"role": "user", "content": turn.content, "turn": turn.number,
            "status": status, "created_at": turn.created_at, **links}  # fmt: skip
    answer = {
        **user,
        "role": "assistant",
        "content": actions.shown_answer(run),
        "output": run.output if run is not None and run.status == Run.Status.SUCCEEDED else None,
        "failure_reason": run.failure_reason if run is not None else "The run was deleted.",
        "created_at": (run.finished_at or run.created_at) if run is not None else turn.created_at,
    }
    return [user, answer]


def heading_out(conversation: Conversation) -> dict[str, Any]:
    """What a conversation's summary and the whole conversation both say of it."""
    version = conversation.team_version
    return {
        "id": conversation.pk,
        "title": conversation.title,
        "team_version": version.number if version is not None else None,
        "draft": version is None,
        "url": reverse("conversation-detail", args=[conversation.pk]),
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }


def conversation_out(conversation: Conversation) -> dict[str, Any]:
    turns = conversation.turns.select_related("run")
    return {
        **heading_out(conversation),
        "team_id": conversation.team_id,
        "team_name": conversation.team.name,
        "messages": [m for turn in turns for m in messages_out(turn)],
    }


def get_conversation(request: HttpRequest, conversation_id: int) -> Conversation:
    return operations.get(
        Conversation.objects.select_related("team", "team_version"),
        request,
        pk=conversation_id,
        not_found=f"Conversation {conversation_id} was not found.",
    )


@router.post(
    "/teams/{team_id}/conversations",
    response={201: ConversationOut, 404: ErrorOut, 422: ProblemsOut},
    url_name="team-conversations-start",
)
@requires("run.start")
def start_conversation(request: HttpRequest, team_id: int, body: ConversationIn) -> Any:
    """Start a conversation with a saved version of the team (the latest by default), or
    with the builder's unsaved draft (`spec`). Send messages to it with
    `POST /api/conversations/{id}/messages`."""
    team = get_team(request, team_id)
    if body.spec is None:
        version = team_version(team, body.version)
        if not version.is_valid:
            return invalid_version(version)
        conversation = actions.do_start_conversation(request.auth, team, version, None)
    else:
        access.check(request.auth, team.workspace, "team.edit")  # a draft is building
        conversation = actions.do_start_conversation(
            request.auth, team, None, dump(checked_draft(team, body.spec))
        )
    return Status(201, conversation_out(get_conversation(request, conversation.pk)))


def checked_draft(team: Team, document: dict[str, Any]) -> Any:
    """The draft, validated exactly as saving it would be (``SpecRejected``: 422)."""
    draft = parse_document(document)
    problems = [p for p in check(draft, team.workspace, team.pk) if p.severity == "error"]
    if problems:
        raise SpecRejected(problems, "The draft has problems; fix them to talk to it.")
    return draft


@router.get(
    "/teams/{team_id}/conversations",
    response={200: list[ConversationSummaryOut], 404: ErrorOut},
    url_name="team-conversations",
)
@requires("run.view")
def list_conversations(request: HttpRequest, team_id: int) -> Any:
    """The team's conversations, the latest first."""
    team = get_team(request, team_id)
    return [summary_out(c) for c in conversations_of(team)]


def conversations_of(team: Team) -> Any:
    return (
        Conversation.objects.filter(team=team)
        .select_related("team_version")
        .annotate(turn_count=Count("turns"))[:200]
    )


def summary_out(conversation: Any) -> dict[str, Any]:
    return {**heading_out(conversation), "turns": conversation.turn_count}


@router.get(
    "/conversations/{conversation_id}",
    response={200: ConversationOut, 404: ErrorOut},
    url_name="conversation",
)
@requires("run.view")
def read_conversation(request: HttpRequest, conversation_id: int) -> Any:
    """The conversation's messages: each user message and its answer, with the run that
    wrote it (its status, and links to its timeline and audit trail)."""
    return conversation_out(get_conversation(request, conversation_id))


@router.post(
    "/conversations/{conversation_id}/messages",
    response={201: RunOut, 404: ErrorOut, 409: ErrorOut, 422: ProblemsOut},
    url_name="conversation-messages",
)
@requires("run.start")
def send_message(request: HttpRequest, conversation_id: int, body: MessageIn) -> Any:
    """Send a message: starts the run that answers it, with the conversation so far, and
    returns that run (watch it stream at `/ws/runs/{id}/`). 409 while the previous answer's
    run is still going, and 409 with the problem code `conversation_full` once the
    conversation holds `CONVERSATION_MAX_TURNS` messages (start a new one); 429 when a quota
    is reached. A conversation with a draft also needs
    `team.edit`."""
    conversation = get_conversation(request, conversation_id)
    if conversation.team_version is None:  # a draft is building, whoever started it
        access.check(request.auth, conversation.workspace, "team.edit")
    try:
        run = actions.do_send_message(conversation, request.auth, body.content)
    except actions.Busy as exc:
        raise HttpError(409, str(exc)) from None
    except actions.Full as exc:
        return Status(409, {"detail": str(exc), "problems": [actions.Full.problem(str(exc))]})
    except UnresolvedTeam as exc:  # a nested team of the draft was deleted meanwhile
        raise SpecRejected([unresolved_problem(exc)], str(exc)) from exc
    return Status(201, run_out(get_run(request, str(run.id))))
