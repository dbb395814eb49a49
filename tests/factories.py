"""Hand-written factories: small functions that make what a test needs, with overridable
defaults. Add yours at the end; keep each one short."""

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User

from teams.spec import TeamSpec, parse

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", **kwargs: Any) -> User:
    kwargs.setdefault("email", f"{username}@example.org")
    return User.objects.create_user(username=username, password=PASSWORD, **kwargs)


# --- engine: team specs ---------------------------------------------------------------


def make_agent(agent_id: str, **kwargs: Any) -> dict[str, Any]:
    """An agent node as the builder saves it; its name is its id with a capital letter."""
    return {"kind": "agent", "id": agent_id, "name": agent_id.capitalize(), **kwargs}


def make_edge(source: str, target: str, kind: str, **kwargs: Any) -> dict[str, Any]:
    return {"id": f"{source}-{target}", "source": source, "target": target, "kind": kind, **kwargs}


def make_team(
    pattern: str, nodes: list[dict], edges: Sequence[dict] = (), **kwargs: Any
) -> TeamSpec:

    kwargs.setdefault("entry", nodes[0]["id"])
    return parse({"pattern": pattern, "nodes": nodes, "edges": list(edges), **kwargs})
