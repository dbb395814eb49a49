"""Template context: the workspace the pages work in, the caller's role there, what that role
allows (``"team.edit" in workspace_can``) and every workspace they can switch to; and the
same of the workspace the page belongs to (``page_workspace``, ``page_role``, ``page_can``),
which is the current one unless the view said otherwise (``workspaces.shows``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}
    from . import current
    from .access import member_workspaces, permissions, remember_roles, role_in
    from .models import Membership

    # One query for every page: the memberships give the workspaces to switch to, the
    # session's workspace among them and the caller's role there.
    reachable = member_workspaces(user).values("pk")
    mine = list(
        Membership.objects.filter(user=user, workspace__in=reachable)
        .select_related("workspace")
        .order_by("workspace__name")
    )
    remember_roles(user, {m.workspace_id: m.role for m in mine})
    here = current(request, among=[m.workspace for m in mine])
    # The page's own workspace (``workspaces.shows``), which the session's may not be.
    shown = getattr(request, "page_workspace_id", None)
    page = next((m.workspace for m in mine if m.workspace_id == shown), here)
    return {
        "workspace": here,
        "workspace_role": role_in(user, here),
        "workspace_can": permissions(user, here) or frozenset(),
        "my_workspaces": [(m.workspace, m.role) for m in mine],
        "page_workspace": page,
        "page_role": role_in(user, page),
        "page_can": permissions(user, page) or frozenset(),
    }
