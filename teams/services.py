"""Checking and saving teams: what the API and the pages share.

Validation itself is pure (teams/validation.py); this module gives it what only the database
knows (a user's models, tools and saved teams) and saves a spec only when it may be saved.
"""

from __future__ import annotations

from typing import Any

from runs.engine.tools import builtin_registry

from .models import ModelConfig, Team, TeamVersion
from .spec import Agent, Pattern, TeamSpec, parse
from .validation import (
    Problem,
    TeamLookup,
    ValidationContext,
    error,
    has_errors,
    parse_with_problems,
    validate,
)

# Ids outside this range cannot be primary keys; looking them up would make PostgreSQL fail.
_MAX_ID = 2**63 - 1


def known_tool_names(user: Any) -> frozenset[str]:
    """The tools ``user``'s agents may use: the built-in ones (custom tools join here)."""
    return frozenset(builtin_registry().names())


def known_model_names(user: Any) -> frozenset[str]:
    names = ModelConfig.objects.for_user(user).values_list("name", flat=True)
    return frozenset({"offline", *names})


def team_lookup(user: Any) -> TeamLookup:
    """Find ``user``'s saved teams by id as TeamSpecs; None for anyone else's or a bad one."""
    cache: dict[int, TeamSpec | None] = {}

    def lookup(team_id: int) -> TeamSpec | None:
        if team_id not in cache:
            cache[team_id] = _load(user, team_id)
        return cache[team_id]

    return lookup


def _load(user: Any, team_id: int) -> TeamSpec | None:
    if not 0 < team_id <= _MAX_ID:
        return None
    document = Team.objects.for_user(user).filter(pk=team_id).values_list("spec", flat=True)
    if not document:
        return None
    try:
        return parse(document[0])
    except ValueError:
        return None


def validation_context(user: Any, team_id: int | None = None) -> ValidationContext:
    return ValidationContext(
        known_tools=known_tool_names(user),
        known_models=known_model_names(user),
        lookup=team_lookup(user),
        team_id=team_id,
    )


class SpecRejected(Exception):
    """A team document that may not be saved (or run), with every reason why."""

    def __init__(self, problems: list[Problem], detail: str | None = None) -> None:
        self.problems = problems
        errors = sum(p.severity == "error" for p in problems)
        self.detail = detail or (
            f"The team has {errors} error{'s' if errors != 1 else ''}; nothing was saved. "
            "Fix the problems listed and try again."
        )
        super().__init__(self.detail)


def _nul_path(value: Any, path: tuple[Any, ...] = ()) -> tuple[Any, ...] | None:
    """Where a NUL character hides in a JSON document (PostgreSQL cannot store one), if anywhere."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if "\x00" in str(key):
                return (*path, key)
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, item in items:
        found = _nul_path(item, (*path, key))
        if found is not None:
            return found
    return None


def parse_document(document: Any) -> TeamSpec:
    """Untrusted JSON to a TeamSpec, or SpecRejected with every reason it does not parse."""
    nul = _nul_path(document)
    if nul is not None:
        where = ".".join(map(str, nul)) or None
        raise SpecRejected(
            [
                error(
                    "nul_character", "Text may not contain the NUL character (\\u0000).", path=where
                )
            ]
        )
    spec, problems = parse_with_problems(document)
    if spec is None:
        raise SpecRejected(problems, "The team document is not valid; nothing was saved.")
    return spec


def check(spec: TeamSpec, user: Any, team_id: int | None = None) -> list[Problem]:
    return validate(spec, validation_context(user, team_id))


def save_spec(
    team: Team, spec: TeamSpec, *, by: Any, draft: bool = False, message: str = ""
) -> tuple[TeamVersion, list[Problem]]:
    """Save ``spec`` as the team's new version; errors refuse it unless it is a draft."""
    problems = check(spec, by, team.pk)
    valid = not has_errors(problems)
    if not valid and not draft:
        raise SpecRejected(problems)
    version = team.save_version(
        spec,
        by=by,
        is_valid=valid,
        problems=[p.model_dump() for p in problems],
        message=message,
    )
    return version, problems


def create_team(
    owner: Any, spec: TeamSpec, *, draft: bool = False, message: str = "Created"
) -> tuple[Team, list[Problem]]:
    team = Team(owner=owner, name=spec.name, description=spec.description, pattern=spec.pattern)
    _, problems = save_spec(team, spec, by=owner, draft=draft, message=message)
    return team, problems


def starter_spec(name: str, pattern: Pattern = "supervisor", description: str = "") -> TeamSpec:
    """A new team: one entry agent, valid as it is, ready to grow in the builder."""
    lead = Agent(
        id="lead",
        name="Lead",
        role="Answers the request, or coordinates the others once you add them.",
        instructions="You lead this team. Read the request and answer it well.",
    )
    return TeamSpec(
        name=name, description=description, pattern=pattern, entry=lead.id, nodes=[lead]
    )
