"""Pages for people: the team list and read-only team view, tokens and models (sign-up and
log-in are in ``accounts.views``).

Every page declares its permission (``workspaces.operations.page``) and looks objects up
through ``workspaces.access``: a team of a workspace you are not in is a 404, exactly like one
that does not exist; a role without the permission gets the 403 page saying which roles have
it. Lists and new things are in the session's workspace (``workspaces.current``).
"""

from typing import Any

from django.contrib import messages
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from workspaces import operations
from workspaces.operations import page

from .credentials import operator_credentials
from .forms import (
    ModelConfigForm,
    SecretForm,
    TeamCreateForm,
    TeamRenameForm,
    TokenCreateForm,
)
from .model_configs import delete_model_config, delete_secret
from .models import ApiToken, ModelConfig, Secret, Team
from .services import create_team, current_problems, delete_team, save_spec, starter_spec
from .spec import parse
from .validation import parse_with_problems


def owned_team(request: HttpRequest, team_id: int) -> Team:
    """The team, if the page's permission allows it in the team's workspace."""
    return operations.get(Team.objects.all(), request, pk=team_id)


@page({"GET": "team.view", "POST": "team.edit"})
def team_list(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    form = TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        spec = starter_spec(form.cleaned_data["name"], form.cleaned_data["pattern"])
        team, _ = create_team(request.user, spec, workspace=workspace)
        messages.success(request, f"Team “{team.name}” created.")
        # A new team is built next: open it on the canvas.
        return redirect("team-builder", team.pk)
    teams = list(Team.objects.in_workspace(workspace))
    _with_last_run(teams)
    return render(request, "teams/team_list.html", {"teams": teams, "form": form})


def _with_last_run(teams: list[Team]) -> None:
    """Sets ``team.last_run`` (or None) on each, in two queries whatever the number of teams.
    The run model is reached through the relation: runs depends on teams, not the reverse."""
    run_model = Team._meta.get_field("runs").related_model
    latest = run_model.objects.filter(team=OuterRef("pk")).order_by("-created_at")
    ids = dict(
        Team.objects.filter(pk__in=[t.pk for t in teams])
        .annotate(last_run_id=Subquery(latest.values("pk")[:1]))
        .values_list("pk", "last_run_id")
    )
    shown = ("status", "input", "failure_reason", "created_at")
    runs = run_model.objects.only(*shown).in_bulk([i for i in ids.values() if i is not None])
    for team in teams:
        team.last_run = runs.get(ids.get(team.pk))  # type: ignore[attr-defined]


@page("team.view")
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = owned_team(request, team_id)
    spec, _ = parse_with_problems(team.spec)
    context = {
        "team": team,
        "spec": spec,
        "problems": current_problems(team),
        "versions": team.versions.select_related("created_by")[:20],
        "rename_form": TeamRenameForm(initial={"name": team.name}),
    }
    return render(request, "teams/team_detail.html", context)


@page("team.edit")
@require_POST
def team_rename(request: HttpRequest, team_id: int) -> HttpResponse:
    team = owned_team(request, team_id)
    form = TeamRenameForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the team a name of 1 to 200 characters.")
        return redirect("team-detail", team.pk)
    name = form.cleaned_data["name"]
    spec = parse(team.spec).model_copy(update={"name": name})
    # A rename never blocks on the team's other problems: it saves like a draft.
    save_spec(team, spec, by=request.user, draft=True, message=f"Renamed to {name}")
    messages.success(request, f"Renamed to “{name}”.")
    return redirect("team-detail", team.pk)


@page("team.edit")
@require_POST
def team_duplicate(request: HttpRequest, team_id: int) -> HttpResponse:
    team = owned_team(request, team_id)
    spec = parse(team.spec)
    spec = spec.model_copy(update={"name": f"Copy of {spec.name}"[:200]})
    copy, _ = create_team(
        request.user,
        spec,
        workspace=team.workspace,
        draft=True,
        message=f"Duplicated from “{team.name}”",
    )
    messages.success(request, f"Duplicated as “{copy.name}”.")
    return redirect("team-detail", copy.pk)


@page("team.delete")
@require_POST
def team_delete(request: HttpRequest, team_id: int) -> HttpResponse:
    team = owned_team(request, team_id)
    delete_team(team, request.user)
    messages.success(request, f"Team “{team.name}” deleted.")
    return redirect("team-list")


@page(None)  # a person's own tokens; the API for them is workspaces.api's
def token_list(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None, user=request.user)
    new_token = None
    if request.method == "POST" and form.is_valid() and (new_token := form.issue()):
        form = TokenCreateForm(user=request.user)
    tokens = ApiToken.objects.filter(user=request.user).select_related("workspace")
    context: dict[str, Any] = {"tokens": tokens, "form": form, "new_token": new_token}
    return render(request, "teams/token_list.html", context)


@page(None)
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token.revoke()
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("token-list")


@page({"GET": "model.view", "POST": "model.edit"})
def model_list(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    form = ModelConfigForm(request.POST or None, owner=request.user, workspace=workspace)
    if request.method == "POST":
        config = form.save()
        if config is not None:
            messages.success(request, f"Model “{config.name}” added.")
            return redirect("model-list")
    configs = ModelConfig.objects.in_workspace(workspace).select_related("secret")
    context = {"configs": configs, "form": form, "credentials": operator_credentials()}
    return render(request, "teams/model_list.html", context)


@page("model.edit")
@require_POST
def model_delete(request: HttpRequest, config_id: int) -> HttpResponse:
    config = operations.get(ModelConfig.objects.all(), request, pk=config_id)
    delete_model_config(config, request.user)
    messages.success(request, f"Model “{config.name}” removed.")
    return redirect("model-list")


@page({"GET": "secret.view", "POST": "secret.edit"})
def secret_list(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    form = SecretForm(request.POST or None, owner=request.user, workspace=workspace)
    if request.method == "POST":
        secret = form.save()
        if secret is not None:
            messages.success(request, f"Secret “{secret.name}” saved.")
            return redirect("secret-list")
    secrets = Secret.objects.in_workspace(workspace).prefetch_related("model_configs")
    # A refused form is shown again without the value: it is never sent back to the browser.
    return render(request, "teams/secret_list.html", {"secrets": secrets, "form": form})


@page("secret.edit")
@require_POST
def secret_delete(request: HttpRequest, secret_id: int) -> HttpResponse:
    secret = operations.get(Secret.objects.all(), request, pk=secret_id)
    removed = f"Secret “{secret.name}” removed."
    operations.done(request, lambda: delete_secret(secret, request.user), removed, (ValueError,))
    return redirect("secret-list")
