"""Template context: the workspace the pages work in, the caller's role there, what that role
allows (``"team.edit" in workspace_can``) and every workspace they can switch to."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def workspace(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}
    from . import current
    from .access import permissions, role_in
    from .models import Membership

    here = current(request)
    mine = Membership.objects.filter(user=user).select_related("workspace")
    return {
        "workspace": here,
        "workspace_role": role_in(user, here),
        "workspace_can": permissions(user, here) or frozenset(),
        "my_workspaces": [(m.workspace, m.role) for m in mine.order_by("workspace__name")],
    }
