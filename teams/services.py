"""Checking and saving teams: what the API and the pages share.

Validation itself is pure (teams/validation.py); this module gives it what only the database
knows (a user's models, tools and saved teams) and saves a spec only when it may be saved.
"""

from __future__ import annotations

import json
import math
from typing import Any

from django.conf import settings

from runs.engine.models import catalogue
from runs.engine.tools import builtin_registry
from workspaces.activity import record
from workspaces.models import Workspace

from .models import CustomTool, ModelConfig, Team, TeamTemplate, TeamVersion
from .spec import Agent, Pattern, TeamSpec, parse
from .validation import (
    Problem,
    TeamLookup,
    TeamTooLarge,
    UnresolvedTeam,
    ValidationContext,
    error,
    has_errors,
    inline_team_refs,
    parse_with_problems,
    validate,
)

# Ids outside this range cannot be primary keys; looking them up would make PostgreSQL fail.
_MAX_ID = 2**63 - 1


def known_tool_names(workspace: Workspace) -> frozenset[str]:
    """The tools a team in ``workspace`` may use: the built-in ones and its custom tools."""
    custom = CustomTool.objects.in_workspace(workspace).values_list("name", flat=True)
    return frozenset(builtin_registry().names()) | frozenset(custom)


def known_model_names(workspace: Workspace) -> frozenset[str]:
    names = ModelConfig.objects.in_workspace(workspace).values_list("name", flat=True)
    return frozenset({"offline", *names})


def model_capabilities(workspace: Workspace) -> dict[str, catalogue.Entry]:
    """The catalogue entry of each of ``workspace``'s models (and of ``offline``), by name."""
    entries = {"offline": catalogue.entry("offline", "offline")}
    for config in ModelConfig.objects.in_workspace(workspace):
        entries[config.name] = config.catalogue_entry()
    return {name: entry for name, entry in entries.items() if entry is not None}


class SavedTeams:
    """``workspace``'s saved teams by id as TeamSpecs, None for a team of any other workspace
    (even one the same person can read: a team nests only teams of its own workspace) or a
    bad one; each read once. ``many`` reads a whole level of nested references in one query."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.cache: dict[int, TeamSpec | None] = {}

    def __call__(self, team_id: int) -> TeamSpec | None:
        if team_id not in self.cache:
            self.many([team_id])
        return self.cache[team_id]

    def many(self, team_ids: list[int]) -> dict[int, TeamSpec | None]:
        wanted = [t for t in team_ids if t not in self.cache]
        for team_id in wanted:
            self.cache[team_id] = None
        ids = [t for t in wanted if 0 < t <= _MAX_ID]
        if ids:
            rows = (
                Team.objects.in_workspace(self.workspace)
                .filter(pk__in=ids)
                .values_list("pk", "spec")
            )
            for team_id, document in rows:
                self.cache[team_id] = _parsed(document)
        return {t: self.cache[t] for t in team_ids}


def team_lookup(workspace: Workspace) -> TeamLookup:
    """Find ``workspace``'s saved teams by id as TeamSpecs; None for any other or a bad one."""
    return SavedTeams(workspace)


def _parsed(document: Any) -> TeamSpec | None:
    try:
        return parse(document)
    except ValueError:
        return None


def validation_context(workspace: Workspace, team_id: int | None = None) -> ValidationContext:
    """What a team of ``workspace`` may use: its models, custom tools and saved teams."""
    return ValidationContext(
        known_tools=known_tool_names(workspace),
        known_models=known_model_names(workspace),
        model_capabilities=model_capabilities(workspace),
        mcp_servers=frozenset(settings.MCP_SERVERS),
        lookup=team_lookup(workspace),
        team_id=team_id,
        max_inlined_nodes=settings.MAX_INLINED_NODES,
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


#: Deeper than this, a team document is not a team: refusing it keeps every later step
#: (validation, JSON Schema checks, storage) far from Python's recursion limit.
MAX_DOCUMENT_DEPTH = 64


def too_deep(where: str | None = None) -> Problem:
    return error(
        "too_deep",
        f"The document is nested more than {MAX_DOCUMENT_DEPTH} levels deep.",
        path=where,
    )


def unstorable(document: Any) -> Problem | None:
    """Why ``document`` cannot be stored whatever it says: too deep, a NUL character, or a
    number that is not finite (``NaN``, ``Infinity``, or ``1e999``, which Python's parser
    reads as infinity): PostgreSQL stores none of them. Iterative, so any depth is safe to
    look at."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        where = ".".join(map(str, path)) or None
        if len(path) > MAX_DOCUMENT_DEPTH:
            return too_deep(where)
        if isinstance(value, str) and "\x00" in value:
            return error(
                "nul_character", "Text may not contain the NUL character (\\u0000).", path=where
            )
        if isinstance(value, float) and not math.isfinite(value):
            return error(
                "not_finite",
                "Numbers must be finite: NaN, Infinity and numbers past 1e308 are not JSON.",
                path=where,
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in str(key):
                    return error(
                        "nul_character",
                        "Keys may not contain the NUL character (\\u0000).",
                        path=where,
                    )
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(value))
    return None


def loads_storable(text: str) -> Any:
    """``json.loads(text)`` for what a person typed into a page: ``json.JSONDecodeError`` for
    text that is not JSON, and a plain ``ValueError`` with a sentence for a document nested
    past Python's stack (a ``RecursionError``: a 500) or one ``unstorable`` refuses (a ``NaN``
    or a NUL: a 500 from the database). The API's bodies get this from the middleware."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(too_deep().message) from None
    if problem := unstorable(value):
        raise ValueError(problem.message)
    return value


def parse_document(document: Any) -> TeamSpec:
    """Untrusted JSON to a TeamSpec, or SpecRejected with every reason it does not parse."""
    problem = unstorable(document)
    if problem is not None:
        raise SpecRejected([problem], "The team document cannot be stored; nothing was saved.")
    spec, problems = parse_with_problems(document)
    if spec is None:
        raise SpecRejected(problems, "The team document is not valid; nothing was saved.")
    return spec


def check(spec: TeamSpec, workspace: Workspace, team_id: int | None = None) -> list[Problem]:
    return validate(spec, validation_context(workspace, team_id))


def inlined(spec: TeamSpec, workspace: Workspace) -> TeamSpec:
    """``spec`` with the saved teams of ``workspace`` it refers to inlined, within the
    deployment's cap (export and run start). Raises ``UnresolvedTeam`` or its
    ``TeamTooLarge``: a reference to a team of another workspace is unresolved."""
    return inline_team_refs(spec, team_lookup(workspace), settings.MAX_INLINED_NODES)


def unresolved_problem(exc: UnresolvedTeam) -> Problem:
    code = "team_too_large" if isinstance(exc, TeamTooLarge) else "unknown_team"
    return error(code, str(exc))


def current_problems(team: Team) -> list[Problem]:
    """The team's problems against today's context (a model added since may fix one)."""
    spec, problems = parse_with_problems(team.spec)
    return problems if spec is None else check(spec, team.workspace, team.pk)


def save_spec(
    team: Team, spec: TeamSpec, *, by: Any, draft: bool = False, message: str = ""
) -> tuple[TeamVersion, list[Problem]]:
    """Save ``spec`` as the team's new version; errors refuse it unless it is a draft."""
    spec = without_stale_layout(spec)
    problems = check(spec, team.place(), team.pk)
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


def without_stale_layout(spec: TeamSpec) -> TeamSpec:
    """Drop canvas positions of nodes that no longer exist: leftovers, not mistakes."""
    ids = {node.id for node in spec.nodes}
    positions = {k: v for k, v in spec.layout.positions.items() if k in ids}
    if len(positions) == len(spec.layout.positions):
        return spec
    layout = spec.layout.model_copy(update={"positions": positions})
    return spec.model_copy(update={"layout": layout})


def create_team(
    owner: Any,
    spec: TeamSpec,
    *,
    workspace: Workspace,
    draft: bool = False,
    message: str = "Created",
) -> tuple[Team, list[Problem]]:
    """A new team in ``workspace`` made by ``owner``."""
    team = Team(
        owner=owner,
        workspace=workspace,
        name=spec.name,
        description=spec.description,
        pattern=spec.pattern,
    )
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


def team_from_template(
    template: TeamTemplate,
    user: Any,
    name: str | None = None,
    *,
    workspace: Workspace,
) -> tuple[Team, list[Problem]]:
    """A new team made by ``user`` in ``workspace``, starting from ``template``'s spec, with the validator's
    problems (warnings only: a template with errors is refused).

    Raises ``SpecRejected`` if the spec no longer validates (loadtemplates refuses such a
    template, so only a hand-edited row gets here).
    """
    spec = TeamSpec.model_validate(template.spec)
    if name:
        spec = spec.model_copy(update={"name": name})
    return create_team(
        user, spec, workspace=workspace, message=f"Made from the template “{template.name}”."
    )


def delete_team(team: Team, actor: Any) -> None:
    """Deletes ``team`` (its versions, runs and their audit trails with it), in the
    workspace's activity log."""
    name, workspace_id = team.name, team.workspace_id
    team.delete()
    record(workspace_id, actor, "team.deleted", name)
