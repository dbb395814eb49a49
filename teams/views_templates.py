"""The template gallery page: browse the templates, make a team from one with a click."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from workspaces import operations
from workspaces.operations import page

from .models import Team, TeamTemplate
from .services import SpecRejected, team_from_template


@page(None)  # the gallery is the deployment's, shared by every workspace
def gallery(request: HttpRequest) -> HttpResponse:
    templates = TeamTemplate.objects.all()
    return render(request, "teams/template_gallery.html", {"templates": templates})


@page("team.edit")
@require_POST
def use_template(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = operations.current(request)
    template = get_object_or_404(TeamTemplate, slug=slug)
    try:
        team, _ = team_from_template(template, request.user, workspace=workspace)
    except SpecRejected as rejected:
        # Only a hand-edited gallery row gets here: loadtemplates refuses invalid templates.
        messages.error(request, f"“{template.name}” cannot be used as it is: {rejected.detail}")
        return redirect("template-gallery")
    messages.success(request, f"“{team.name}” is yours now: change it as you like, then run it.")
    return redirect(_team_page(team))


def _team_page(team: Team) -> str:
    """The builder opens the new team; without the builder mounted, its read-only page."""
    for name in ("team-builder", "team-detail"):
        try:
            return reverse(name, args=[team.pk])
        except NoReverseMatch:
            continue
    return reverse("template-gallery") + f"?made={team.pk}"
