"""``{% may "team.edit" team as can_edit %}`` and ``{% why_not "team.edit" team %}``: what
the page's viewer may do to an object (or in a workspace), asked of ``workspaces.access``,
so a page hides what the role cannot do and says why."""

from __future__ import annotations

from typing import Any

from django import template

from ..access import can, role_in
from ..models import Workspace
from ..roles import needs_sentence

register = template.Library()


def _workspace_of(thing: Any) -> Workspace | None:
    if isinstance(thing, Workspace):
        return thing
    return getattr(thing, "workspace", None)


@register.simple_tag(takes_context=True)
def may(context: Any, permission: str, thing: Any) -> bool:
    workspace = _workspace_of(thing)
    return workspace is not None and can(context["user"], workspace, permission)


@register.simple_tag(takes_context=True)
def why_not(context: Any, permission: str, thing: Any) -> str:
    """The sentence naming the roles ``permission`` needs; empty when the viewer has it."""
    workspace = _workspace_of(thing)
    if workspace is None or can(context["user"], workspace, permission):
        return ""
    return needs_sentence(permission, role_in(context["user"], workspace), workspace.name)
