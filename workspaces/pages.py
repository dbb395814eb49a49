"""The pages people manage workspaces with: the list (and making one), the switcher in the
top bar, members with their roles and invitation links, and the activity log. Every change
goes through ``workspaces.services``, which checks through ``workspaces.access``: a page
never decides who may do what itself."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from teams.models import Team

from . import SESSION_KEY, choose, current, services, shows
from .access import can, check, member_workspaces, role_in
from .activity import entries
from .api import invitation_url
from .models import Invitation, Membership, Workspace
from .operations import done, needed, page
from .roles import ORDER, PERMISSIONS, Role

ROLE_CHOICES = [(r.value, r.label) for r in ORDER]


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")


class SettingsForm(forms.Form):
    name = forms.CharField(max_length=120, label="Name")
    retention_days = forms.IntegerField(
        required=False,
        min_value=1,
        label="Keep finished runs for (days)",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("A workspace needs a name.")
        return name

    def clean_retention_days(self) -> int | None:
        try:
            return services.check_retention(self.cleaned_data["retention_days"])
        except services.RetentionRefused as exc:
            raise forms.ValidationError(str(exc)) from None


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.VIEWER, label="Role")


class InvitationForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial=Role.RUNNER, label="Role")
    email = forms.EmailField(
        required=False, label="Only for (e-mail)", help_text="Leave empty for anyone with the link."
    )


def _workspace(request: HttpRequest, slug: str) -> Workspace:
    """The workspace ``slug``: 404 unless the caller is a member, 403 without the page's
    declared permission (both raised by ``access.check``)."""
    workspace = Workspace.objects.filter(slug=slug).first() or Workspace(slug=slug, pk=0)
    check(request.user, workspace, needed(request))
    shows(request, workspace.pk)
    return workspace


def landing(request: HttpRequest, workspace: Workspace) -> str:
    """Where a member lands in ``workspace``: the teams, or the runs for someone who may not
    read teams (an auditor reads runs and their audit trails)."""
    if can(request.user, workspace, "team.view"):
        # A workspace with no team yet starts on the start page: templates, patterns, models.
        if not Team.objects.in_workspace(workspace).exists():
            return reverse("start")
        return reverse("team-list")
    return "/runs/"


@page(None)  # one's own workspaces; making one needs no role anywhere
def workspace_list(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workspace = services.new_workspace(form.cleaned_data["name"], request.user)
        choose(request, workspace)
        messages.success(request, f"{workspace.name} is made; you are its owner.")
        return redirect("workspace-members", slug=workspace.slug)
    mine = (
        Membership.objects.filter(user=request.user, workspace__in=member_workspaces(request.user))
        .select_related("workspace")
        .order_by("workspace__name")
    )
    rows = [(m.workspace, m.role, m.workspace.memberships.count()) for m in mine]
    return render(request, "workspaces/workspace_list.html", {"rows": rows, "form": form})


@page("workspace.view")
@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    slug = str(request.POST.get(SESSION_KEY, ""))
    workspace = _workspace(request, slug)
    choose(request, workspace)
    wanted = str(request.POST.get("next", ""))
    # Back to the page it was switched from only when that page lists things: an object's
    # page belongs to the old workspace.
    safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, request.is_secure())
    if safe and wanted.rstrip("/") in {"/teams", "/runs", "/inbox", "/dashboard", "/templates"}:
        if wanted.startswith("/teams") and not can(request.user, workspace, "team.view"):
            return redirect(landing(request, workspace))
        return redirect(wanted)
    return redirect(landing(request, workspace))


@page("members.view")
def members(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    manages = can(request.user, workspace, "members.manage")
    context: dict[str, Any] = {
        "ws": workspace,
        "manages": manages,
        "my_role": role_in(request.user, workspace),
        "members": workspace.memberships.select_related("user").order_by("user__username"),
        "roles": ROLE_CHOICES,
        "member_form": MemberForm(auto_id="member_%s"),
        "invitation_form": InvitationForm(auto_id="invite_%s"),
        "invitations": workspace.invitations.usable() if manages else Invitation.objects.none(),
        "new_link": request.session.pop("new_invitation_link", None),
    }
    return render(request, "workspaces/members.html", context)


@page({"GET": "workspace.view", "POST": "workspace.edit"})
def workspace_settings(request: HttpRequest, slug: str) -> HttpResponse:
    """The workspace's name and retention period: its owners and admins change them (through
    the same services as the API, so the activity log records it), everyone else reads them
    and why they cannot."""
    workspace = _workspace(request, slug)
    initial = {"name": workspace.name, "retention_days": workspace.retention_days}
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.rename(workspace, request.user, form.cleaned_data["name"])
        services.set_retention(workspace, request.user, form.cleaned_data["retention_days"])
        messages.success(request, f"The settings of {workspace.name} are saved.")
        return redirect("workspace-settings", slug=workspace.slug)
    context = {
        "ws": workspace,
        "form": form,
        "edits": can(request.user, workspace, "workspace.edit"),
        "ceiling": settings.RUN_RETENTION_DAYS,
    }
    return render(request, "workspaces/settings.html", context, status=422 if form.errors else 200)


def _done(request: HttpRequest, slug: str, action: Any, success: str) -> HttpResponse:
    done(request, action, success, (services.Conflict, services.InvitationRefused))
    return redirect("workspace-members", slug=slug)


@page("members.manage")
@require_POST
def member_add(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a username and a role.")
        return redirect("workspace-members", slug=slug)
    name, role = form.cleaned_data["username"], form.cleaned_data["role"]
    return _done(
        request,
        slug,
        lambda: services.add_member(workspace, request.user, name, role),
        f"{name} is now a member, as {role}.",
    )


@page("members.manage")
@require_POST
def member_change(request: HttpRequest, slug: str, username: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    if request.POST.get("remove"):
        return _done(
            request,
            slug,
            lambda: services.remove_member(workspace, request.user, username),
            f"{username} is no longer a member.",
        )
    role = str(request.POST.get("role", ""))
    if role not in Role.values:
        messages.error(request, f"{role or 'Nothing'} is not a role.")
        return redirect("workspace-members", slug=slug)
    return _done(
        request,
        slug,
        lambda: services.change_role(workspace, request.user, username, role),
        f"{username} is now {role}.",
    )


@page("workspace.view")  # any member may leave, except the last owner
@require_POST
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    try:
        services.remove_member(workspace, request.user, request.user.get_username())
    except services.Conflict as exc:
        messages.error(request, str(exc))
        return redirect("workspace-members", slug=slug)
    request.session.pop(SESSION_KEY, None)
    messages.success(request, f"You left {workspace.name}.")
    return redirect("workspace-list")


@page("members.manage")
@require_POST
def invitation_create(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    form = InvitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a role (and a valid e-mail address, if any).")
        return redirect("workspace-members", slug=slug)

    def make() -> None:
        _, token = services.invite(
            workspace, request.user, form.cleaned_data["role"], form.cleaned_data["email"]
        )
        request.session["new_invitation_link"] = invitation_url(token)

    return _done(request, slug, make, "Invitation link made: it works once.")


@page("members.manage")
@require_POST
def invitation_revoke(request: HttpRequest, slug: str, invitation_id: int) -> HttpResponse:
    workspace = _workspace(request, slug)
    return _done(
        request,
        slug,
        lambda: services.revoke_invitation(workspace, request.user, invitation_id),
        "Invitation revoked.",
    )


@page("activity.view")
def activity(request: HttpRequest, slug: str) -> HttpResponse:
    workspace = _workspace(request, slug)
    found = entries(workspace)[:200]
    return render(request, "workspaces/activity.html", {"ws": workspace, "entries": found})


@page(None)  # the matrix itself: the same for everyone
def role_matrix(request: HttpRequest) -> HttpResponse:
    """What each role may do: the matrix itself, so the page cannot drift from the checks."""
    rows = [(p, [role in p.roles for role in ORDER]) for p in PERMISSIONS.values()]
    return render(request, "workspaces/roles.html", {"rows": rows, "order": ORDER})


def home(request: HttpRequest) -> HttpResponse:
    """``/`` and where logging in leads: the current workspace's teams, or its runs for a
    role that may not read teams (an auditor lands on runs and their audit trails)."""
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(landing(request, current(request)))
