"""The runs part of the JSON API (see the API contract): start, list, read, cancel, answer,
audit, replay and fork runs, and fetch their artifacts. Another user's run is a 404."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import FileResponse, HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import PageNumberPagination, paginate
from pydantic import field_validator

from teams.models import Team, TeamVersion
from teams.schemas import ErrorOut
from teams.services import unresolved_problem
from teams.validation import UnresolvedTeam, error
from workspaces import access, operations
from workspaces.operations import WORKSPACE_QUERY, requires

from . import actions, audit, heads
from .models import Artifact, Run, RunEvent
from .serializers import RunOut, run_out

router = Router(tags=["runs"])

MAX_EVENTS_PER_PAGE = 5000


# --- shapes ----------------------------------------------------------------------------


def not_null(value: Any) -> Any:
    if value is None:
        raise ValueError("The input cannot be null; send {} for a run with no input.")
    return value


class RunIn(Schema):
    input: Any = Field(
        default_factory=dict,
        description="The task. Checked against the team's input_schema when it has one.",
    )
    version: int | None = Field(None, ge=1, description="Team version; the latest if omitted.")

    _input_not_null = field_validator("input")(not_null)


class AnswerIn(Schema):
    answer: Any


class ForkIn(Schema):
    from_seq: int = Field(..., ge=0, description="Keep the source's events up to this seq.")
    input: Any = Field(None, description="A new input; the source run's input if omitted.")
    version: int | None = Field(None, ge=1)

    _input_not_null = field_validator("input")(not_null)


class EventOut(Schema):
    seq: int
    ts: str
    type: str
    key: str
    agent: str | None
    span_id: str | None
    parent_span_id: str | None
    payload: dict[str, Any]
    hash: str


class VerifyOut(Schema):
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str | None = Field(None, description="Why the trail does not verify, in a sentence.")
    signed_seq: int | None = Field(
        None, description="How many events the run's signed head vouches for."
    )
    note: str | None = Field(
        None, description="Why some events are not signed yet: the run is still executing."
    )
    head: Any = Field(
        None,
        description="The run's signed head as stored: format, run, seq, hash, signed_at, "
        "key_id, signature (see docs/reading-an-audit-trail.md).",
    )


class PublicKeyOut(Schema):
    key_id: str
    algorithm: str
    public_key_pem: str
    current: bool = Field(description="Whether heads are signed with it now.")


class PublicKeysOut(Schema):
    key_id: str = Field(description="The key that signs heads now.")
    algorithm: str
    public_key_pem: str
    keys: list[PublicKeyOut] = Field(
        description="Every key a head may verify with: the current one, then retired ones."
    )


class ProblemsOut(Schema):
    detail: str
    problems: list[dict[str, Any]]


class RunFilters(Schema):
    workspace: str | None = Field(None, max_length=60, description=WORKSPACE_QUERY)
    team: int | None = None
    status: Run.Status | None = None
    since: datetime | None = None
    until: datetime | None = None

    @field_validator("since", "until")
    @classmethod
    def in_utc(cls, value: datetime | None) -> datetime | None:
        """Dates without a zone are UTC; any offset is brought to UTC, which the database
        takes whatever offsets it accepts itself."""
        if value is None:
            return None
        try:
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
        except OverflowError:
            raise ValueError("The date is out of range.") from None


# --- finding runs --------------------------------------------------------------------


def runs_with_details() -> QuerySet[Run]:
    return (
        Run.objects.select_related("team_version")
        .prefetch_related("artifacts")
        .annotate(last_seq=Max("events__seq"))
    )


def get_run(request: HttpRequest, run_id: UUID | str) -> Run:
    """The run, if the caller holds the operation's permission in its workspace (404 for a
    workspace they are not in, 403 for a role without it)."""
    return operations.get(
        runs_with_details(), request, id=run_id, not_found=f"Run {run_id} was not found."
    )


def locked_run(request: HttpRequest, run_id: UUID | str) -> Run:
    """The run with its row locked until the transaction ends (call inside ``atomic``)."""
    return operations.get(
        Run.objects.select_for_update(of=("self",)),
        request,
        id=run_id,
        not_found=f"Run {run_id} was not found.",
    )


# --- starting runs ----------------------------------------------------------------------


def team_version(team: Team, number: int | None) -> TeamVersion:
    version = team.versions.filter(number=number or team.version).first()
    if version is None:
        raise HttpError(404, f"Team {team.name!r} has no version {number}.")
    return version


def invalid_version(version: TeamVersion) -> tuple[int, dict[str, Any]]:
    return 422, {
        "detail": f"Version {version.number} of this team has problems; fix them in the "
        "builder and save before running it.",
        "problems": version.problems,
    }


@router.post(
    "/teams/{team_id}/runs", response={201: RunOut, 422: ProblemsOut}, url_name="team-runs"
)
@requires("run.start")
def start_run(request: HttpRequest, team_id: int, body: RunIn) -> Any:
    team = operations.get(
        Team.objects.all(), request, pk=team_id, not_found=f"Team {team_id} was not found."
    )
    version = team_version(team, body.version)
    if not version.is_valid:
        return invalid_version(version)
    if problems := actions.input_problems(version.spec, body.input):
        return 422, {
            "detail": "The input does not fit the team's input schema.",
            "problems": problems,
        }
    try:
        run = actions.start_run(request.auth, version, body.input)
    except UnresolvedTeam as exc:
        return 422, {"detail": str(exc), "problems": [unresolved_problem(exc).model_dump()]}
    return 201, run_out(get_run(request, str(run.id)))


# --- reading runs -----------------------------------------------------------------------


class RunPages(PageNumberPagination):
    """Pages of runs: counted and cut out on the bare rows, and only the page's runs loaded
    with their details. A view that returned every run serialised made each read load the
    whole table (and each run's team version) into the web process, whose memory then grew
    with the number of runs (docs/reliability.md, "Soak"); counting with the details
    would join every run's events."""

    def paginate_queryset(
        self, queryset: QuerySet[Run], pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        page = super().paginate_queryset(queryset, pagination, request, **params)
        ids = list(page["items"].values_list("id", flat=True))
        runs = {run.id: run for run in runs_with_details().filter(id__in=ids)}
        page["items"] = [run_out(runs[id]) for id in ids if id in runs]  # unless deleted meanwhile
        return page


@router.get("/runs", response=list[RunOut], url_name="runs")
@requires("run.view")
@paginate(RunPages, page_size=50)
def list_runs(request: HttpRequest, filters: Query[RunFilters]) -> QuerySet[Run]:
    runs = Run.objects.filter(workspace=operations.workspace(request, filters.workspace))
    if filters.team is not None:
        runs = runs.filter(team_id=filters.team)
    if filters.status is not None:
        runs = runs.filter(status=filters.status)
    if filters.since is not None:
        runs = runs.filter(created_at__gte=filters.since)
    if filters.until is not None:
        runs = runs.filter(created_at__lt=filters.until)
    return runs


@router.get("/runs/{uuid:run_id}", response=RunOut, url_name="run")
@requires("run.view")
def read_run(request: HttpRequest, run_id: UUID) -> Any:
    return run_out(get_run(request, run_id))


@router.get("/runs/{uuid:run_id}/events", response=list[EventOut], url_name="run-events")
@requires("run.view")
def run_events(
    request: HttpRequest, run_id: UUID, after_seq: int = 0, limit: int = MAX_EVENTS_PER_PAGE
) -> Any:
    run = get_run(request, run_id)
    limit = max(1, min(limit, MAX_EVENTS_PER_PAGE))
    events = RunEvent.objects.filter(run=run, seq__gt=after_seq).order_by("seq")[:limit]
    return [event.to_dict() for event in events]


# --- changing runs ----------------------------------------------------------------------


@router.post(
    "/runs/{uuid:run_id}/cancel", response={200: RunOut, 409: ErrorOut}, url_name="run-cancel"
)
@requires("run.cancel")
def cancel_run(request: HttpRequest, run_id: UUID) -> Any:
    with transaction.atomic():
        run = locked_run(request, run_id)
        with refusals():
            actions.cancel_run(run, by=request.auth)
    return run_out(get_run(request, run_id))


@router.post(
    "/runs/{uuid:run_id}/answer", response={200: RunOut, 409: ErrorOut}, url_name="run-answer"
)
@requires("run.answer")
def answer_run(request: HttpRequest, run_id: UUID, body: AnswerIn) -> Any:
    with transaction.atomic():
        run = locked_run(request, run_id)
        with refusals():
            actions.answer_run(run, body.answer, by=request.auth)
    return run_out(get_run(request, run_id))


@contextmanager
def refusals() -> Iterator[None]:
    """An action's refusal as the API answers it: 409 for the run's state, 422 for input."""
    try:
        yield
    except actions.Conflict as exc:
        raise HttpError(409, str(exc)) from None
    except actions.Invalid as exc:
        raise HttpError(422, str(exc)) from None


# --- the audit trail --------------------------------------------------------------------


def download(lines: Any, run: Run, extension: str, content_type: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="run-{run.id}.{extension}"'
    return response


def not_archived(run: Run, what: str) -> Run:
    if run.is_archived:
        raise HttpError(
            409,
            f"The run was archived on {run.archived_at:%Y-%m-%d}: its events left the "
            f"database, so it cannot be {what}. Download its archive from "
            f"/api/runs/{run.id}/archive.",
        )
    return run


@router.get("/runs/{uuid:run_id}/audit.jsonl", url_name="run-audit-jsonl")
@requires("audit.export")
def audit_jsonl(request: HttpRequest, run_id: UUID) -> Any:
    run = get_run(request, run_id)
    if run.is_archived:
        return archive_download(request, run_id)  # the archive is this export, kept
    return download(audit.jsonl_lines(run), run, "jsonl", "application/x-ndjson")


def file_responses(content_type: str, **errors: str) -> dict[str, Any]:
    """The OpenAPI answers of an endpoint that returns a file, and the errors it may give."""
    answers: dict[int, Any] = {200: {"description": "The file.", "content": {content_type: {}}}}
    for code, why in errors.items():
        error = {"schema": {"$ref": "#/components/schemas/ErrorOut"}}
        answers[int(code.strip("_"))] = {"description": why, "content": {"application/json": error}}
    return {"responses": answers}


@router.get(
    "/runs/{uuid:run_id}/audit.csv",
    url_name="run-audit-csv",
    openapi_extra=file_responses("text/csv", _409="The run is archived: download its archive."),
)
@requires("audit.export")
def audit_csv(request: HttpRequest, run_id: UUID) -> StreamingHttpResponse:
    run = not_archived(get_run(request, run_id), "exported as CSV")
    return download(audit.csv_lines(run), run, "csv", "text/csv; charset=utf-8")


@router.get("/runs/{uuid:run_id}/verify", response=VerifyOut, url_name="run-verify")
@requires("audit.export")
def verify_run(request: HttpRequest, run_id: UUID) -> Any:
    return audit.verify(get_run(request, run_id))


@router.get(
    "/runs/{uuid:run_id}/archive",
    url_name="run-archive",
    openapi_extra=file_responses("application/x-ndjson"),
)
@requires("audit.export")
def archive_download(request: HttpRequest, run_id: UUID) -> Any:
    """An archived run's archive, for whoever may export its audit trail: its audit export
    as written when its events left the database."""
    run = operations.get(
        Run.objects.archived(), request, id=run_id, not_found=f"Run {run_id} was not found."
    )
    try:
        file = run.archive_file().open("rb")
    except (ValueError, OSError):
        raise HttpError(
            404,
            "The run's archive file is missing from the archive folder; ask the operator to "
            "restore it from the backup of ARCHIVE_ROOT.",
        ) from None
    return FileResponse(
        file,
        as_attachment=True,
        filename=f"run-{run.id}.jsonl",
        content_type="application/x-ndjson",
    )


@router.get("/audit/public-key", response=PublicKeysOut, auth=None, url_name="audit-public-key")
@requires(None)
def audit_public_key(request: HttpRequest) -> Any:
    """The public keys that verify runs' signed heads: anyone may fetch them, to check an
    exported trail outside the product."""
    keys = heads.published_keys()
    return {**keys[0], "keys": keys}


# --- replay and fork --------------------------------------------------------------------


@router.post(
    "/runs/{uuid:run_id}/replay", response={201: RunOut, 409: ErrorOut}, url_name="run-replay"
)
@requires("run.start")
def replay_run(request: HttpRequest, run_id: UUID) -> Any:
    source = not_archived(get_run(request, run_id), "replayed")
    with refusals():
        run = actions.replay_run(request.auth, source)
    return 201, run_out(get_run(request, str(run.id)))


@router.post(
    "/runs/{uuid:run_id}/fork",
    response={201: RunOut, 409: ErrorOut, 422: ProblemsOut},
    url_name="run-fork",
)
@requires("run.start")
def fork_run(request: HttpRequest, run_id: UUID, body: ForkIn) -> Any:
    source = not_archived(get_run(request, run_id), "forked")
    if body.from_seq > (source.last_seq or 0):
        # The declared 422 (ProblemsOut) always lists problems: this one names the field.
        detail = f"The run has {source.last_seq or 0} events; fork from one of them."
        problem = error("invalid_from_seq", detail, path="from_seq").model_dump()
        return 422, {"detail": detail, "problems": [problem]}
    version = None
    if body.version is not None:
        if source.team is None:
            raise HttpError(409, "The run's team was deleted; fork it without a version.")
        version = team_version(source.team, body.version)
        if not version.is_valid:
            return invalid_version(version)
    task_input = body.input if "input" in body.model_fields_set else source.input
    if problems := actions.input_problems(version.spec if version else source.spec, task_input):
        return 422, {
            "detail": "The input does not fit the team's input schema.",
            "problems": problems,
        }
    run = actions.fork_run(request.auth, source, version, task_input, body.from_seq)
    return 201, run_out(get_run(request, str(run.id)))


# --- artifacts --------------------------------------------------------------------------


# Nothing a tool wrote may run on the app's origin, even a file whose type lies.
ARTIFACT_POLICY = "default-src 'none'; sandbox"


@router.get("/artifacts/{uuid:artifact_id}", url_name="artifact")
@requires("run.view")
def artifact_file(request: HttpRequest, artifact_id: UUID) -> FileResponse:
    artifact: Artifact = access.get_object(
        Artifact.objects.all(),
        request.auth,
        operations.needed(request),
        path="run__workspace",
        not_found=f"Artifact {artifact_id} was not found.",
        id=artifact_id,
    )
    response = FileResponse(
        artifact.file.open("rb"),
        content_type=artifact.served_content_type(),
        as_attachment=not artifact.is_inline(),
        filename=artifact.download_name(),
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ARTIFACT_POLICY
    return response
