"""Workspaces: who shares what, with which role. ``workspaces.access`` decides every check;
``current(request)`` is the workspace a page works in (the one chosen in the session);
``shows(request, ...)`` names the one a page belongs to, when it belongs to one."""

from typing import Any

#: The session key holding the slug of the workspace the pages work in.
SESSION_KEY = "workspace"


def current(request: Any, among: list[Any] | None = None) -> Any:
    """The workspace chosen in ``request``'s session if its user is still a member of it,
    else their personal workspace (where pages create things by default). ``among``: every
    workspace the user belongs to, when the caller has read them already (no query then)."""
    from .access import member_workspaces
    from .models import personal_workspace

    slug = request.session.get(SESSION_KEY)
    if among is not None:
        chosen = [w for w in among if w.slug == slug] if slug else []
        personal = [w for w in among if w.personal_for_id == request.user.pk]
        if chosen or personal:
            return (chosen or personal)[0]
    if slug:
        found = member_workspaces(request.user).filter(slug=slug).first()
        if found is not None:
            return found
    return personal_workspace(request.user)


def shows(request: Any, workspace_id: int) -> None:
    """Say that the page answering ``request`` belongs to workspace ``workspace_id`` (a
    workspace's own pages, an object's page): the top bar's role badge and the workspace
    pages' links follow it rather than the current workspace."""
    request.page_workspace_id = workspace_id


def choose(request: Any, workspace: Any) -> None:
    """Make ``workspace`` the one ``request``'s pages work in from now on (the caller has
    checked membership; ``current`` checks again on every read)."""
    request.session[SESSION_KEY] = workspace.slug
