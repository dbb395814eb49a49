"""Hand-written factories: small functions that make what a test needs, with overridable
defaults. Add yours at the end; keep each one short."""

from typing import Any

from django.contrib.auth.models import User

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", **kwargs: Any) -> User:
    kwargs.setdefault("email", f"{username}@example.org")
    return User.objects.create_user(username=username, password=PASSWORD, **kwargs)


def make_run(owner: User, **kwargs: Any) -> Any:
    """A run of no saved team, as if just created; pass ``status`` etc. to place it."""
    from runs.models import Run

    kwargs.setdefault("team_name", "Research team")
    kwargs.setdefault("spec", {"name": "Research team", "pattern": "supervisor"})
    kwargs.setdefault("input", {"task": "Summarise the quarter"})
    return Run.objects.create(owner=owner, **kwargs)


def make_event(type: str = "message", key: str | None = None, **kwargs: Any) -> Any:
    """An engine event, e.g. ``make_event("tool.call", payload={...})``."""
    import time

    from runs.engine.events import Event

    return Event(type=type, key=key or f"{type}:{time.monotonic_ns()}", ts=time.time(), **kwargs)


def offline_team_spec(name: str = "Research team") -> dict[str, Any]:
    """A valid one-agent supervisor team on the built-in offline model."""
    return {
        "name": name,
        "pattern": "supervisor",
        "entry": "lead",
        "nodes": [{"kind": "agent", "id": "lead", "name": "Lead", "model": "offline"}],
        "edges": [],
    }


def make_saved_team(owner: User, spec: dict[str, Any] | None = None, *, valid: bool = True) -> Any:
    """A saved team with one version (valid unless told otherwise)."""
    from teams.models import Team
    from teams.spec import parse

    parsed = parse(spec or offline_team_spec())
    team = Team(owner=owner, name=parsed.name, pattern=parsed.pattern, spec={})
    problems = [] if valid else [{"severity": "error", "code": "no_entry", "message": "No entry."}]
    team.save_version(parsed, by=owner, is_valid=valid, problems=problems)
    return team
