"""The one place that decides whether a person (or their API token) may do something in a
workspace. The API, the pages, the websocket, artifact downloads, exports and management
commands all ask here, and only here; the answers come from the matrix in ``roles``.

- Someone who is not a member of the workspace an object lives in gets ``NotFound`` (404),
  exactly as for an object that does not exist: membership is not leaked.
- A member whose role lacks the permission gets ``Forbidden`` (403) with a sentence that
  names the roles that have it.
- An API token is bound to one workspace and carries a role no higher than its user's: its
  permissions are what both the token's role and the user's current role allow, so lowering
  a member's role lowers their tokens too (``TokenScope``, set by ``teams.auth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404

from . import roles
from .models import Membership, Workspace, personal_workspace

M = TypeVar("M", bound=Model)


class NotFound(Http404):
    """Not there, or not yours to know about: both answer the same 404."""


class Forbidden(PermissionDenied):
    """A member whose role does not allow it; the message says which roles do."""


@dataclass(frozen=True)
class TokenScope:
    """What an API token may reach: one workspace, with at most ``role``."""

    workspace_id: int
    role: str
    #: The token's id, which attribution records (``token:<id>``); None outside a request.
    token_id: int | None = None


def _scope(user: Any) -> TokenScope | None:
    return getattr(user, "token_scope", None)


def role_in(user: Any, workspace: Workspace) -> str | None:
    """``user``'s role in ``workspace`` (None for a non-member), memoised on the user object,
    which lives for one request or one websocket connection."""
    if not getattr(user, "is_authenticated", False):
        return None
    cache: dict[int, str | None] = user.__dict__.setdefault("_workspace_roles", {})
    if workspace.pk not in cache:
        cache[workspace.pk] = (
            Membership.objects.filter(workspace=workspace, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return cache[workspace.pk]


def remember_roles(user: Any, found: dict[int, str]) -> None:
    """Seed ``role_in``'s memo with roles the caller has read (workspace id: role)."""
    cache: dict[int, str | None] = user.__dict__.setdefault("_workspace_roles", {})
    for workspace_id, role in found.items():
        cache.setdefault(workspace_id, role)


def permissions(user: Any, workspace: Workspace) -> frozenset[str] | None:
    """What ``user`` may do in ``workspace``: None when they may not even know it exists."""
    role = role_in(user, workspace)
    if role is None:
        return None
    held = roles.permissions_of(role)
    scope = _scope(user)
    if scope is not None:
        if scope.workspace_id != workspace.pk:
            return None
        held &= roles.permissions_of(scope.role)
    return held


def can(user: Any, workspace: Workspace, permission: str) -> bool:
    return permission in (permissions(user, workspace) or ())


def check(user: Any, workspace: Workspace, permission: str) -> None:
    """Returns when ``user`` may; else ``NotFound`` for a non-member, ``Forbidden`` (with the
    sentence naming the roles needed) for a member without the permission."""
    roles.roles_with(permission)  # a name outside the matrix is a bug: KeyError, loudly
    held = permissions(user, workspace)
    if held is None:
        raise NotFound(f"Workspace {workspace.slug} was not found.")
    if permission not in held:
        role = role_in(user, workspace)
        scope = _scope(user)
        if scope is not None and permission in roles.permissions_of(role):
            role = f"using a token limited to {scope.role}"
        raise Forbidden(roles.needs_sentence(permission, role, workspace.name))


def workspaces_where(user: Any, permission: str) -> QuerySet[Workspace]:
    """The workspaces in which ``user`` holds ``permission``."""
    if not getattr(user, "is_authenticated", False):
        return Workspace.objects.none()
    wanted = roles.roles_with(permission)
    found = Workspace.objects.filter(memberships__user=user, memberships__role__in=wanted)
    scope = _scope(user)
    if scope is not None:
        if permission not in roles.permissions_of(scope.role):
            return Workspace.objects.none()
        found = found.filter(pk=scope.workspace_id)
    return found


def member_workspaces(user: Any) -> QuerySet[Workspace]:
    """Every workspace ``user`` belongs to (limited to a token's own)."""
    if not getattr(user, "is_authenticated", False):
        return Workspace.objects.none()
    found = Workspace.objects.filter(memberships__user=user)
    scope = _scope(user)
    return found.filter(pk=scope.workspace_id) if scope is not None else found


def visible(
    queryset: QuerySet[M], user: Any, permission: str, path: str = "workspace"
) -> QuerySet[M]:
    """``queryset`` limited to rows in workspaces where ``user`` holds ``permission``;
    ``path`` is how a row reaches its workspace (``"team__workspace"`` for a schedule)."""
    return queryset.filter(**{f"{path}__in": workspaces_where(user, permission)})


def get_object(
    queryset: QuerySet[M],
    user: Any,
    permission: str,
    *,
    path: str = "workspace",
    not_found: str = "It was not found.",
    **lookup: Any,
) -> M:
    """The row of ``queryset`` matching ``lookup``, if ``user`` may ``permission`` on it:
    ``NotFound`` when it does not exist or lives where ``user`` is no member, ``Forbidden``
    when they are a member whose role does not allow it."""
    try:
        row = (
            queryset.filter(**{f"{path}__in": member_workspaces(user)}, **lookup)
            .select_related(path)
            .first()
        )
    except (ValueError, TypeError, OverflowError):
        row = None  # a malformed id is just another id that does not exist
    if row is None:
        raise NotFound(not_found)
    workspace = row
    for part in path.split("__"):
        workspace = getattr(workspace, part)
    check(user, workspace, permission)
    return row


def workspace_for(user: Any, slug: str | None, permission: str) -> Workspace:
    """The workspace a list or create request is about: ``slug``, or the caller's personal
    one (a token's own workspace for a token) when none is given; checked for
    ``permission``."""
    if slug:
        # Only a slug can name a workspace; anything else (a NUL byte, say, which PostgreSQL
        # refuses to compare) names none.
        valid = len(slug) <= 60 and all(c.isascii() and (c.isalnum() or c in "-_") for c in slug)
        workspace = Workspace.objects.filter(slug=slug).first() if valid else None
        if workspace is None:
            raise NotFound(f"Workspace {slug} was not found.")
    else:
        scope = _scope(user)
        workspace = (
            Workspace.objects.get(pk=scope.workspace_id)
            if scope is not None
            else personal_workspace(user)
        )
    check(user, workspace, permission)
    return workspace


class WorkspaceQuerySet(QuerySet[M]):
    """Rows that live in a workspace; ``for_user`` is what the caller may read."""

    def for_user(self, user: Any, permission: str | None = None) -> QuerySet[M]:
        """Rows in workspaces where ``user`` holds ``permission`` (the model's
        ``VIEW_PERMISSION`` by default)."""
        return visible(self, user, permission or self.model.VIEW_PERMISSION)  # type: ignore[attr-defined]

    def in_workspace(self, workspace: Workspace) -> QuerySet[M]:
        return self.filter(workspace=workspace)
