"""Hand-written factories: small functions that make what a test needs, with overridable
defaults. Add yours at the end; keep each one short."""

from typing import Any

from django.contrib.auth.models import User

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", **kwargs: Any) -> User:
    kwargs.setdefault("email", f"{username}@example.org")
    return User.objects.create_user(username=username, password=PASSWORD, **kwargs)


# --- runs (run UI) --------------------------------------------------------------------------

from django.utils import timezone  # noqa: E402

from runs.engine.events import chain_hash  # noqa: E402
from runs.models import Run, RunEvent  # noqa: E402
from teams.models import Team  # noqa: E402


def make_team(owner: User, name: str = "Research team", **kwargs: Any) -> Team:
    kwargs.setdefault("pattern", "supervisor")
    kwargs.setdefault("spec", {"name": name})
    return Team.objects.create(owner=owner, name=name, **kwargs)


def make_run(owner: User, team: Team | None = None, **kwargs: Any) -> Run:
    kwargs.setdefault("team_name", team.name if team else "Research team")
    kwargs.setdefault("spec", {"name": kwargs["team_name"]})
    kwargs.setdefault("input", {"task": "Summarise the findings"})
    return Run.objects.create(owner=owner, team=team, **kwargs)


def append_event(run: Run, type: str, agent: str = "", **kwargs: Any) -> RunEvent:
    """Append the run's next event, numbered and hash-chained like the sink does."""
    last = run.events.order_by("-seq").first()
    seq = last.seq + 1 if last else 1
    fields: dict[str, Any] = {
        "seq": seq,
        "ts": kwargs.pop("ts", None) or timezone.now(),
        "type": type,
        "key": kwargs.pop("key", f"{type}#{seq}"),
        "agent": agent,
        "span_id": kwargs.pop("span_id", ""),
        "parent_span_id": kwargs.pop("parent_span_id", ""),
        "payload": kwargs.pop("payload", {}),
    }
    hashed = {**fields, "ts": fields["ts"].isoformat()}
    fields["hash"] = chain_hash(last.hash if last else "", hashed)
    return RunEvent.objects.create(run=run, **fields)
