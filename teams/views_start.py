"""The start page (``/start/``): where a new member's first five minutes lead. The templates
with a picture of each graph, the three patterns in a sentence and a picture each, creating a
team (which opens the builder), and "connect a model" with a test-connection button."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from runs.engine.models import catalogue
from workspaces import operations
from workspaces.access import check
from workspaces.models import Workspace
from workspaces.operations import page

from .forms import ConnectModelForm, TeamCreateForm
from .graph_preview import PATTERNS, graph_svg
from .models import ModelConfig, Team, TeamTemplate


@page("team.view")
def start(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    return render(request, "teams/start.html", _context(request, workspace))


@page("model.edit")
@require_POST
def connect(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    check(request.user, workspace, "secret.edit")  # the key becomes a secret
    form = ConnectModelForm(request.POST, owner=request.user, workspace=workspace)
    config = form.save()
    if config is None:
        # The key is never sent back: the form shows again without it.
        return render(request, "teams/start.html", _context(request, workspace, form), status=422)
    messages.success(request, f"Model “{config.name}” connected. Test its connection below.")
    return redirect("/start/#connect-a-model")


def _context(
    request: HttpRequest, workspace: Workspace, form: ConnectModelForm | None = None
) -> dict[str, Any]:
    templates = TeamTemplate.objects.all()
    return {
        "templates": [(t, graph_svg(t.spec, f"The graph of {t.name}", t.slug)) for t in templates],
        "patterns": [
            (name, sentence, graph_svg(spec, f"A {name.lower()} team", name.lower()))
            for name, sentence, spec in PATTERNS
        ],
        "has_teams": Team.objects.in_workspace(workspace).exists(),
        "team_form": TeamCreateForm(auto_id="start-team-%s"),
        "connect_form": form or ConnectModelForm(owner=request.user, workspace=workspace),
        "presets": catalogue.catalogue().presets,
        "models": ModelConfig.objects.in_workspace(workspace).exclude(provider="offline"),
    }
