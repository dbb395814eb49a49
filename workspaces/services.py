"""Changing workspaces and their members: the rules (who may grant which role, the last
owner, personal workspaces, one-time invitations) live here, so the API and the pages
cannot disagree, and every change is written to the activity log here.

A role is granted only by someone who holds every permission it carries: an admin cannot
make an owner (nor an owner invitation), and cannot change or remove an owner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from orchestration_site import tokens

from . import access, roles
from .activity import record
from .models import Invitation, Membership, Workspace, create_workspace


class Conflict(Exception):
    """The change would leave the workspace in a state it must not be in (409)."""


class InvitationRefused(Exception):
    """The invitation link cannot be used (any more), or not by this account."""


def _check_grant(actor: Any, workspace: Workspace, role: str, permission: str) -> None:
    """``actor`` may give (or take away) ``role`` only when they hold all it allows."""
    access.check(actor, workspace, permission)
    held = access.permissions(actor, workspace) or frozenset()
    if not roles.permissions_of(role) <= held:
        mine = access.role_in(actor, workspace)
        raise access.Forbidden(
            f"Only someone who holds everything the {role} role allows can grant it or change "
            f"a member who has it; you are {mine}."
        )


def new_workspace(name: str, actor: Any) -> Workspace:
    workspace = create_workspace(name, owner=actor)
    record(workspace, actor, "workspace.created", workspace.name)
    return workspace


def rename(workspace: Workspace, actor: Any, name: str) -> Workspace:
    access.check(actor, workspace, "workspace.edit")
    before = workspace.name
    if name != before:
        workspace.name = name
        workspace.save(update_fields=["name"])
        record(workspace, actor, "workspace.renamed", name, before=before)
    return workspace


class RetentionRefused(ValueError):
    """A retention period outside what the server allows (the API answers 422)."""


#: The longest period anyone may ask for when the operator sets no ceiling: a century.
MAX_RETENTION_DAYS = 36500


def check_retention(days: int | None) -> int | None:
    """``days`` when a workspace may keep its runs that long: at least one day, and at most
    the operator's RUN_RETENTION_DAYS (the default, and the ceiling) when one is set."""
    ceiling = settings.RUN_RETENTION_DAYS
    if days is None:
        return None
    if days < 1:
        raise RetentionRefused("Keep runs at least 1 day, or leave it empty for the default.")
    if ceiling and days > ceiling:
        raise RetentionRefused(
            f"This server archives runs after {ceiling} days at most (RUN_RETENTION_DAYS): "
            f"choose {ceiling} or fewer, or the default."
        )
    if days > MAX_RETENTION_DAYS:
        raise RetentionRefused(f"Choose {MAX_RETENTION_DAYS} days (a century) or fewer.")
    return days


def set_retention(workspace: Workspace, actor: Any, days: int | None) -> Workspace:
    """How long the workspace's finished runs stay in the database before they are archived
    (None: the operator's RUN_RETENTION_DAYS). ``RetentionRefused`` beyond the ceiling."""
    access.check(actor, workspace, "workspace.edit")
    check_retention(days)
    before = workspace.retention_days
    if days != before:
        workspace.retention_days = days
        workspace.save(update_fields=["retention_days"])
        record(
            workspace,
            actor,
            "workspace.retention_changed",
            "default" if days is None else f"{days} days",
            before=before,
            after=days,
        )
    return workspace


def delete_workspace(workspace: Workspace, actor: Any) -> None:
    """Deletes the workspace with all it holds; refused for a personal workspace and while
    any of its runs is queued, running or waiting."""
    from runs.models import Run

    access.check(actor, workspace, "workspace.delete")
    if workspace.is_personal:
        raise Conflict("A personal workspace cannot be deleted; it goes with its account.")
    with transaction.atomic():
        Workspace.objects.select_for_update().filter(pk=workspace.pk).first()
        active = Run.objects.filter(workspace=workspace).active().count()
        if active:
            raise Conflict(
                f"{workspace.name} still has {active} active run{'s' * (active != 1)}; "
                "cancel them or let them finish, then delete the workspace."
            )
        workspace.delete()


def _membership(workspace: Workspace, username: str, *, lock: bool = False) -> Membership:
    found = Membership.objects.filter(workspace=workspace, user__username=username)
    membership = (found.select_for_update() if lock else found).select_related("user").first()
    if membership is None:
        raise access.NotFound(f"{username} is not a member of {workspace.name}.")
    return membership


def _keep_an_owner(workspace: Workspace, membership: Membership, new_role: str | None) -> None:
    """Refuses to take the owner role from the last owner, or from a personal workspace's
    own person. Owner rows are locked first, so two owners demoting each other at once
    cannot both succeed."""
    if membership.role != roles.OWNER or new_role == roles.OWNER:
        return
    if workspace.personal_for_id == membership.user_id:
        raise Conflict(f"{membership.user} always owns their personal workspace.")
    owners = list(
        Membership.objects.select_for_update()
        .filter(workspace=workspace, role=roles.OWNER)
        .values_list("pk", flat=True)
    )
    if owners == [membership.pk]:
        raise Conflict(
            f"{membership.user} is the last owner of {workspace.name}; make someone else an "
            "owner first."
        )


def add_member(workspace: Workspace, actor: Any, username: str, role: str) -> Membership:
    _check_grant(actor, workspace, role, "members.manage")
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise access.NotFound(f"There is no account called {username}.")
    with transaction.atomic():
        membership, made = Membership.objects.get_or_create(
            workspace=workspace, user=user, defaults={"role": role, "added_by": actor}
        )
        if not made:
            raise Conflict(f"{username} is already a member, as {membership.role}.")
        record(workspace, actor, "member.added", username, role=role)
    return membership


def change_role(workspace: Workspace, actor: Any, username: str, role: str) -> Membership:
    _check_grant(actor, workspace, role, "members.manage")
    with transaction.atomic():
        membership = _membership(workspace, username, lock=True)
        _check_grant(actor, workspace, membership.role, "members.manage")
        if membership.role != role:
            _keep_an_owner(workspace, membership, role)
            before, membership.role = membership.role, role
            membership.save(update_fields=["role"])
            record(workspace, actor, "member.role_changed", username, before=before, role=role)
    return membership


def remove_member(workspace: Workspace, actor: Any, username: str) -> None:
    """Removes ``username``; any member may remove themselves (leave)."""
    leaving = getattr(actor, "get_username", lambda: None)() == username
    if leaving:
        access.check(actor, workspace, "workspace.view")
    with transaction.atomic():
        membership = _membership(workspace, username, lock=True)
        if not leaving:
            _check_grant(actor, workspace, membership.role, "members.manage")
        _keep_an_owner(workspace, membership, None)
        membership.delete()
        action = "member.left" if leaving else "member.removed"
        record(workspace, actor, action, username, role=membership.role)


def invite(workspace: Workspace, actor: Any, role: str, email: str = "") -> tuple[Invitation, str]:
    """A one-time invitation link's token (shown once; only its digest is kept)."""
    _check_grant(actor, workspace, role, "members.manage")
    token = tokens.new_token(Invitation.PREFIX)
    invitation = Invitation.objects.create(
        workspace=workspace,
        role=role,
        email=email,
        digest=Invitation.digest_of(token),
        hint=token[:10],
        created_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITE_VALID_DAYS),
    )
    record(
        workspace,
        actor,
        "invitation.created",
        email or invitation.hint,
        role=role,
        id=invitation.pk,
    )
    return invitation, token


def revoke_invitation(workspace: Workspace, actor: Any, invitation_id: int) -> Invitation:
    access.check(actor, workspace, "members.manage")
    invitation = Invitation.objects.filter(workspace=workspace, pk=invitation_id).first()
    if invitation is None:
        raise access.NotFound("That invitation was not found.")
    if invitation.status == "open":
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        record(workspace, actor, "invitation.revoked", invitation.email or invitation.hint)
    return invitation


def check_invitation(token: str) -> Invitation:
    """The open invitation ``token`` names; ``InvitationRefused`` for anything else."""
    found = Invitation.objects.filter(digest=Invitation.digest_of(token)).first()
    if found is None or not token.startswith(Invitation.PREFIX):
        raise InvitationRefused("This invitation link is not valid.")
    if found.status != "open":
        raise InvitationRefused(f"This invitation link was {found.status}; ask for a new one.")
    return found


def accept(token: str, user: Any) -> Membership:
    """Makes ``user`` a member as the invitation says. The invitation row is locked, so
    two accepts of one link make one membership; the link is used up by the first."""
    with transaction.atomic():
        invitation = check_invitation(token)
        invitation = (
            Invitation.objects.select_for_update().select_related("workspace").get(pk=invitation.pk)
        )
        if invitation.status != "open":
            raise InvitationRefused(f"This invitation link was {invitation.status}.")
        if invitation.email and invitation.email.lower() != (user.email or "").lower():
            raise InvitationRefused(
                f"This invitation is for {invitation.email}; log in with that account."
            )
        workspace = invitation.workspace
        inviter_role = (
            Membership.objects.filter(workspace=workspace, user_id=invitation.created_by_id)
            .values_list("role", flat=True)
            .first()
        )
        still = roles.permissions_of(inviter_role)
        if "members.manage" not in still or not roles.permissions_of(invitation.role) <= still:
            raise InvitationRefused(
                "The person who made this invitation can no longer grant that role; ask for "
                "a new one."
            )
        existing = Membership.objects.filter(workspace=workspace, user=user).first()
        if existing is not None:
            raise Conflict(f"You are already a member of {workspace.name}, as {existing.role}.")
        # Used up only if still usable: a second guard besides the row lock.
        if (
            not Invitation.objects.usable()
            .filter(pk=invitation.pk)
            .update(used_at=timezone.now(), used_by=user)
        ):
            raise InvitationRefused("This invitation link was used.")
        membership = Membership.objects.create(
            workspace=workspace, user=user, role=invitation.role, added_by=invitation.created_by
        )
        record(workspace, user, "invitation.accepted", user.get_username(), role=invitation.role)
    return membership
