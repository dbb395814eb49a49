"""The teams part of the JSON API: CRUD with versions, validation, export and import.

Views stay thin: parsing and saving live in teams/services.py, shared with the pages.
Each operation declares its permission (``workspaces.operations.requires``); a team of a
workspace the caller is not in answers 404, exactly like a team that does not exist.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.text import slugify
from ninja import Query, Router, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError

from workspaces import operations
from workspaces.operations import WORKSPACE_QUERY, requires

from .models import Team, TeamVersion
from .schemas import (
    TEAMSPEC_REF,
    ErrorOut,
    TeamCreate,
    TeamDetail,
    TeamSummary,
    TeamUpdate,
    ValidationResult,
    VersionDetail,
    VersionSummary,
)
from .services import (
    SpecRejected,
    check,
    create_team,
    current_problems,
    delete_team,
    inlined,
    parse_document,
    save_spec,
    starter_spec,
    unresolved_problem,
)
from .spec import dump
from .validation import (
    Problem,
    UnresolvedTeam,
    error,
    has_errors,
    parse_with_problems,
)

router = Router(tags=["teams"])

_MAX_ID = 2**63 - 1
_TEAMSPEC_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": TEAMSPEC_REF}}}
}


def get_team(request: HttpRequest, team_id: int) -> Team:
    """The team, if the caller holds the operation's permission in its workspace: 404 whether
    it does not exist or lives in a workspace they are not in, 403 for a role without it."""
    return operations.get(
        Team.objects.all(),
        request,
        pk=team_id,
        not_found=f"Team {team_id} was not found.",
    )


def read_json(request: HttpRequest) -> Any:
    try:
        return json.loads(request.body)
    except (ValueError, RecursionError) as exc:
        raise HttpError(400, "The request body is not valid JSON.") from exc


def team_detail(team: Team, problems: list[Problem]) -> dict[str, Any]:
    return {
        **TeamSummary.model_validate(team).model_dump(),
        "is_valid": not has_errors(problems),
        "spec": team.spec,
        "problems": problems,
    }


def version_summary(version: TeamVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "is_valid": version.is_valid,
        "message": version.message,
        "created_by": version.created_by.username if version.created_by else None,
        "created_at": version.created_at,
    }


@router.get("/teams", response=list[TeamSummary])
@requires("team.view")
def list_teams(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    return Team.objects.in_workspace(operations.workspace(request, workspace))


@router.post("/teams", response={201: TeamDetail, 422: ErrorOut})
@requires("team.edit")
def create(request: HttpRequest, payload: TeamCreate) -> Any:
    workspace = operations.workspace(request, payload.workspace)
    if payload.spec is None:
        spec = starter_spec(payload.name, payload.pattern, payload.description)
    else:
        spec = parse_document(payload.spec)
        spec = spec.model_copy(update={"name": payload.name, "description": payload.description})
    team, problems = create_team(request.auth, spec, workspace=workspace, draft=payload.draft)
    return Status(201, team_detail(team, problems))


# Fixed paths come before /teams/{team_id} so 'validate' is not taken for an id.
@router.post("/teams/validate", response=ValidationResult, openapi_extra=_TEAMSPEC_BODY)
@requires("team.view")
def validate_document(
    request: HttpRequest,
    team_id: int | None = None,
    workspace: str | None = Query(None, description=WORKSPACE_QUERY),
) -> Any:
    """Check a TeamSpec without saving it; a document that does not parse is a problem too.

    ``team_id`` names the saved team the document is an edit of (it is checked against that
    team's workspace, and a nested team node that includes that team is reported as a
    circle); otherwise against ``workspace``.
    """
    if team_id is None:
        place = operations.workspace(request, workspace)
    else:
        place = get_team(request, team_id).workspace
    try:
        spec = parse_document(read_json(request))
    except SpecRejected as rejected:
        return {"valid": False, "problems": rejected.problems}
    problems = check(spec, place, team_id)
    return {"valid": not has_errors(problems), "problems": problems}


@router.post(
    "/teams/import", response={201: TeamDetail, 422: ErrorOut}, openapi_extra=_TEAMSPEC_BODY
)
@requires("team.edit")
def import_team(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    place = operations.workspace(request, workspace)
    spec = parse_document(read_json(request))
    team, problems = create_team(request.auth, spec, workspace=place, message="Imported")
    return Status(201, team_detail(team, problems))


@router.get("/teams/{team_id}", response=TeamDetail)
@requires("team.view")
def read(request: HttpRequest, team_id: int) -> Any:
    team = get_team(request, team_id)
    return team_detail(team, current_problems(team))


@router.put("/teams/{team_id}", response={200: TeamDetail, 422: ErrorOut})
@requires("team.edit")
def update(request: HttpRequest, team_id: int, payload: TeamUpdate) -> Any:
    team = get_team(request, team_id)
    spec = parse_document(payload.spec)
    _, problems = save_spec(
        team, spec, by=request.auth, draft=payload.draft, message=payload.message
    )
    return team_detail(team, problems)


@router.delete("/teams/{team_id}", response={204: None})
@requires("team.delete")
def delete(request: HttpRequest, team_id: int) -> Any:
    delete_team(get_team(request, team_id), request.auth)
    return Status(204, None)


@router.get("/teams/{team_id}/versions", response=list[VersionSummary])
@requires("team.view")
def list_versions(request: HttpRequest, team_id: int) -> Any:
    team = get_team(request, team_id)
    return [version_summary(v) for v in team.versions.select_related("created_by")]


@router.get("/teams/{team_id}/versions/{number}", response=VersionDetail)
@requires("team.view")
def read_version(request: HttpRequest, team_id: int, number: int) -> Any:
    team = get_team(request, team_id)
    version = team.versions.filter(number=number).first() if 0 < number <= _MAX_ID else None
    if version is None:
        raise HttpError(404, f"Team {team_id} has no version {number}.")
    return {**version_summary(version), "spec": version.spec, "problems": version.problems}


@router.get("/teams/{team_id}/export", response={200: dict[str, Any], 422: ErrorOut})
@requires("team.view")
def export(request: HttpRequest, team_id: int) -> Any:
    """The TeamSpec as a self-contained file: nested team references are inlined."""
    team = get_team(request, team_id)
    spec, problems = parse_with_problems(team.spec)
    if spec is None:
        raise SpecRejected(problems, "The stored team no longer parses; save it again.")
    try:
        spec = inlined(spec, team.workspace)
    except UnresolvedTeam as exc:
        raise SpecRejected([unresolved_problem(exc)], str(exc)) from exc
    filename = f"{slugify(team.name) or 'team'}.team.json"
    response = JsonResponse(dump(spec), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def spec_rejected(request: HttpRequest, exc: SpecRejected, api: Any) -> HttpResponse:
    body = {"detail": exc.detail, "problems": [p.model_dump() for p in exc.problems]}
    return api.create_response(request, body, status=422)


def _location(loc: Any) -> list[Any]:
    """Ninja's error location without its ("body", "payload") prefix."""
    parts = list(loc)
    if parts[:1] in (["body"], ["query"], ["path"]):
        parts = parts[1:]
    if parts[:1] == ["payload"]:
        parts = parts[1:]
    return parts


def request_invalid(request: HttpRequest, exc: NinjaValidationError, api: Any) -> HttpResponse:
    """Ninja's request validation errors in the contract's shape: a sentence and problems."""
    problems = []
    for err in exc.errors:
        parts = _location(err.get("loc", ()))
        path = ".".join(map(str, parts)) or None
        message = err.get("msg", "is not valid")
        problems.append(
            error("invalid", f"{path}: {message}." if path else f"{message}.", path=path)
        )
    body = {
        "detail": "The request is not valid; nothing was changed. See the problems listed.",
        "problems": [p.model_dump() for p in problems],
    }
    return api.create_response(request, body, status=422)
