"""The team's Publish page: its publications, their keys, and forms to publish, unpublish,
issue and revoke (the same actions as the API). A new key is shown on the answer to the form
that issued it, and nowhere else."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from teams.models import Team
from workspaces import access, operations
from workspaces.operations import page

from . import actions
from .api import PublishIn, publication_out
from .forms import KeyForm, PublishForm
from .models import Publication


def _team(request: HttpRequest, team_id: int) -> Team:
    return operations.get(Team.objects.all(), request, pk=team_id)


def _publication(request: HttpRequest, publication_id: int) -> Publication:
    return access.get_object(
        Publication.objects.select_related("team", "published_by"),
        request.user,
        operations.needed(request),
        path="team__workspace",
        pk=publication_id,
    )


def _valid_versions(team: Team) -> list[int]:
    return list(team.versions.filter(is_valid=True).values_list("number", flat=True))


def _render(
    request: HttpRequest, team: Team, form: PublishForm | None = None, **extra: Any
) -> HttpResponse:
    publications = [
        {**publication_out(p), "keys": p.keys.all()}
        for p in team.publications.select_related("published_by").prefetch_related("keys")
    ]
    versions = _valid_versions(team)
    context = {
        "team": team,
        "publications": publications,
        "form": form
        or PublishForm(versions=versions, initial={"version": versions[:1] and versions[0]}),
        **extra,
    }
    return render(request, "publishing/team_publishing.html", context)


@page({"GET": "publication.view", "POST": "publication.manage"})
def team_publishing(request: HttpRequest, team_id: int) -> HttpResponse:
    team = _team(request, team_id)
    if request.method != "POST":
        return _render(request, team)
    form = PublishForm(request.POST, versions=_valid_versions(team))
    if not form.is_valid():
        return _render(request, team, form)
    try:
        wanted = PublishIn.model_validate(form.cleaned_data)
        actions.do_publish(
            team,
            wanted.version,
            wanted.slug,
            wanted.rate_limit,
            request.user,
            wanted.widget_origins or [],
        )
    except ValidationError as exc:
        form.add_error(None, exc.errors()[0]["msg"].removeprefix("Value error, "))
        return _render(request, team, form)
    except actions.SlugTaken as exc:
        form.add_error("slug", str(exc))
        return _render(request, team, form)
    messages.success(request, f"Version {wanted.version} is published at /p/{wanted.slug}/.")
    return redirect("team-publishing", team.pk)


@page("publication.manage")
@require_POST
def unpublish(request: HttpRequest, publication_id: int) -> HttpResponse:
    publication = _publication(request, publication_id)
    actions.do_unpublish(publication)
    messages.success(request, f"/p/{publication.slug}/ is unpublished; its keys are revoked.")
    return redirect("team-publishing", publication.team_id)


@page("publication.manage")
@require_POST
def issue_key(request: HttpRequest, publication_id: int) -> HttpResponse:
    publication = _publication(request, publication_id)
    form = KeyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the key a name of 1 to 100 characters.")
        return redirect("team-publishing", publication.team_id)
    try:
        _, key = actions.do_issue_key(publication, form.cleaned_data["name"], request.user)
    except actions.TooManyKeys as exc:
        messages.error(request, str(exc))
        return redirect("team-publishing", publication.team_id)
    return _render(request, publication.team, new_key=key, new_key_for=publication.slug)


@page("publication.manage")
@require_POST
def revoke_key(request: HttpRequest, publication_id: int, key_id: int) -> HttpResponse:
    publication = _publication(request, publication_id)
    key = publication.keys.filter(pk=key_id).first()
    if key is not None:
        key.revoke()
        messages.success(request, f"The key {key.name} is revoked.")
    return redirect("team-publishing", publication.team_id)
