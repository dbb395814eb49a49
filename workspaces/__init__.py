"""Workspaces: who shares what, with which role. ``workspaces.access`` decides every check;
``current(request)`` is the workspace a page works in (the one chosen in the session)."""

from typing import Any

#: The session key holding the slug of the workspace the pages work in.
SESSION_KEY = "workspace"


def current(request: Any) -> Any:
    """The workspace chosen in ``request``'s session if its user is still a member of it,
    else their personal workspace (where pages create things by default)."""
    from .access import member_workspaces
    from .models import personal_workspace

    slug = request.session.get(SESSION_KEY)
    if slug:
        found = member_workspaces(request.user).filter(slug=slug).first()
        if found is not None:
            return found
    return personal_workspace(request.user)


def choose(request: Any, workspace: Any) -> None:
    """Make ``workspace`` the one ``request``'s pages work in from now on (the caller has
    checked membership; ``current`` checks again on every read)."""
    request.session[SESSION_KEY] = workspace.slug
