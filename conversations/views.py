"""The conversation pages: one conversation, talked to live, and a team's conversations
(where a new one starts). The conversation page's script (``static/js/conversation.js``)
speaks only the documented API and the run websocket."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import ensure_csrf_cookie

from runs.api import invalid_version
from teams.models import Team
from workspaces import operations
from workspaces.operations import page

from . import actions
from .api import conversation_out, conversations_of, summary_out
from .models import Conversation


@page("run.view")
@ensure_csrf_cookie  # the page's script POSTs messages to the API
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = operations.get(
        Conversation.objects.select_related("team", "team_version"),
        request,
        pk=conversation_id,
        not_found=f"Conversation {conversation_id} was not found.",
    )
    spec = conversation.spec or {}
    context = {
        "conversation": conversation,
        "document": conversation_out(conversation),
        "entry": spec.get("entry") or "",
    }
    return render(request, "conversations/conversation_detail.html", context)


@page({"GET": "run.view", "POST": "run.start"})
def team_conversations(request: HttpRequest, team_id: int) -> HttpResponse:
    team = operations.get(
        Team.objects.all(), request, pk=team_id, not_found=f"Team {team_id} was not found."
    )
    if request.method == "POST":
        return _start(request, team)
    context = {"team": team, "conversations": [summary_out(c) for c in conversations_of(team)]}
    return render(request, "conversations/team_conversations.html", context)


def _start(request: HttpRequest, team: Team) -> HttpResponse:
    version = team.versions.filter(number=team.version).first()
    if version is None or not version.is_valid:
        detail = (
            invalid_version(version)[1]["detail"]
            if version
            else "The team has no saved version yet; save it in the builder first."
        )
        context = {
            "team": team,
            "conversations": [summary_out(c) for c in conversations_of(team)],
            "error": detail,
        }
        return render(request, "conversations/team_conversations.html", context, status=422)
    conversation = actions.do_start_conversation(request.user, team, version, None)
    return redirect("conversation-detail", conversation.pk)
