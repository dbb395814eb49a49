"""The permission each API operation needs, declared once, next to the operation:

    @router.put("/teams/{team_id}", ...)
    @requires("team.edit")
    def update(request, team_id, payload): team = operations.get(Team.objects, request, pk=team_id)

``requires`` records the permission on the view (the generated permission test reads it, and
fails for an operation without one) and hands it to the request, so the lookups below check
exactly that permission through ``workspaces.access`` and nothing else. ``requires(None)``
declares an operation that concerns no workspace (the built-in tool list, the audit public
key, a trigger's token URL): any authenticated caller, or the operation's own ``auth``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db.models import QuerySet
from ninja.decorators import decorate_view
from pydantic import BaseModel, Field

from . import access, roles, shows
from .models import Workspace

F = TypeVar("F", bound=Callable[..., Any])

#: The attribute ``requires`` sets on a view function; absent means undeclared.
ATTRIBUTE = "workspace_permission"


def requires(permission: str | None) -> Callable[[F], F]:
    """Declare the permission the decorated ninja operation needs (None: no workspace)."""
    if permission is not None:
        roles.roles_with(permission)  # a name outside the matrix fails at import

    def on_request(run: Callable[..., Any]) -> Callable[..., Any]:
        def run_requiring(request: Any, *args: Any, **kwargs: Any) -> Any:
            request.workspace_permission = permission
            return run(request, *args, **kwargs)

        return run_requiring

    def declare(view: F) -> F:
        setattr(view, ATTRIBUTE, permission)
        return decorate_view(on_request)(view)

    return declare


def page(permission: str | Mapping[str, str] | None) -> Callable[[F], F]:
    """Declare the permission a page needs: one for every method, or one per method
    (``{"GET": "team.view", "POST": "team.edit"}``); the page also needs a login. A
    ``Forbidden`` raised inside renders ``403.html`` with its sentence (Django's handler403)."""
    from django.contrib.auth.decorators import login_required

    per_method = dict(permission) if isinstance(permission, Mapping) else None
    names = list(per_method.values()) if per_method is not None else [permission]
    for name in names:
        if isinstance(name, str):
            roles.roles_with(name)

    def declare(view: F) -> F:
        @functools.wraps(view)
        def page_requiring(request: Any, *args: Any, **kwargs: Any) -> Any:
            if per_method is None:
                request.workspace_permission = permission
            else:
                method = "GET" if request.method == "HEAD" else request.method
                request.workspace_permission = per_method.get(method, per_method.get("GET"))
            return view(request, *args, **kwargs)

        setattr(page_requiring, ATTRIBUTE, permission)
        return login_required(page_requiring)  # type: ignore[return-value]

    return declare


def done(
    request: Any, action: Callable[[], object], success: str, refusals: tuple[type[Exception], ...]
) -> bool:
    """A page's state change: run ``action`` and say ``success``, or, when it raises one of
    ``refusals`` (a refusal the person can act on), show its sentence instead; whether it
    succeeded. The page then redirects where it always does."""
    from django.contrib import messages

    try:
        action()
    except refusals as exc:
        messages.error(request, str(exc))
        return False
    messages.success(request, success)
    return True


def declared(view: Callable[..., Any]) -> tuple[bool, str | None]:
    """Whether ``view`` declared its permission, and which."""
    return hasattr(view, ATTRIBUTE), getattr(view, ATTRIBUTE, None)


def needed(request: Any) -> str:
    """The permission the current operation declared; an operation that looks a workspace
    object up without declaring one is a bug, refused loudly rather than let through."""
    permission = getattr(request, "workspace_permission", None)
    if permission is None:
        raise RuntimeError("this operation looks up workspace objects but declares no permission")
    return permission


def caller(request: Any) -> Any:
    """Who is asking: the API's authenticated user (``request.auth``), or a page's user."""
    return getattr(request, "auth", None) or request.user


def get(queryset: QuerySet[Any], request: Any, **lookup: Any) -> Any:
    """``access.get_object`` with the operation's permission, for its caller; a page showing
    it belongs to its workspace."""
    found = access.get_object(queryset, caller(request), needed(request), **lookup)
    if (workspace_id := getattr(found, "workspace_id", None)) is not None:
        shows(request, workspace_id)
    return found


def workspace(request: Any, slug: str | None) -> Workspace:
    """The workspace a list or create operation is about (``?workspace=`` or the body's
    ``workspace``; the caller's personal one, or their token's, by default)."""
    return access.workspace_for(caller(request), slug, needed(request))


def current(request: Any) -> Workspace:
    """The workspace a page works in (``workspaces.current``: the session's), checked for
    the page's permission."""
    from . import current as session_workspace

    place = session_workspace(request)
    access.check(caller(request), place, needed(request))
    return place


class InWorkspaceBody(BaseModel):
    """The ``workspace`` member of a create operation's body."""

    workspace: str | None = Field(
        None,
        max_length=60,
        description="The slug of the workspace to create it in; your personal workspace "
        "(or your token's) when left out.",
    )


#: The ``?workspace=`` query parameter of a list operation (declare it as ``workspace: Slug``).
WORKSPACE_QUERY = (
    "The slug of the workspace to list; your personal one (or your token's) by default."
)
