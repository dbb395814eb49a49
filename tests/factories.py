"""Hand-written factories: small functions that make what a test needs, with overridable
defaults. Add yours at the end; keep each one short."""

from typing import Any

from django.contrib.auth.models import User

from runs.models import Run
from teams.models import Team
from teams.spec import parse

PASSWORD = "correct horse battery staple"


def make_user(username: str = "alice", **kwargs: Any) -> User:
    kwargs.setdefault("email", f"{username}@example.org")
    return User.objects.create_user(username=username, password=PASSWORD, **kwargs)


def make_supervisor_team(owner: User, name: str = "Research desk") -> Team:
    """A saved, valid supervisor team: a lead who delegates to a researcher with a calculator."""
    spec = parse(
        {
            "name": name,
            "pattern": "supervisor",
            "entry": "lead",
            "nodes": [
                {"kind": "agent", "id": "lead", "name": "Lead", "model": "offline"},
                {
                    "kind": "agent",
                    "id": "researcher",
                    "name": "Researcher",
                    "model": "offline",
                    "tools": ["calculator"],
                },
            ],
            "edges": [{"id": "e1", "source": "lead", "target": "researcher", "kind": "delegates"}],
        }
    )
    team = Team(owner=owner)
    team.save_version(spec, by=owner, is_valid=True)
    return team


def make_run_of(team: Team, **kwargs: Any) -> Run:
    kwargs.setdefault("status", Run.Status.QUEUED)
    return Run.objects.create(
        owner=team.owner,
        team=team,
        team_version=team.current_version(),
        team_name=team.name,
        spec=team.spec,
        input=kwargs.pop("input", {"question": "What is 6 * 7?"}),
        **kwargs,
    )
