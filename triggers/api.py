"""Schedules and signed triggers in the JSON API. Another user's team, schedule or trigger
is a 404. The trigger's own URL (``POST /api/hooks/{token}``) is authenticated by its
signature alone: see ``triggers.signing``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, field_validator

from orchestration_site import bodies
from runs.api import ProblemsOut, not_null
from teams.models import Team
from teams.schemas import ErrorOut
from teams.validation import error
from workspaces import access, operations
from workspaces.operations import requires

from . import actions, cron, signing
from .models import Schedule, ScheduleFiring, Trigger

router = Router(tags=["schedules and triggers"])

MAX_VERSION = 2**31 - 1  # a PostgreSQL integer
Cron = Field(description="Five cron fields: minute hour day-of-month month day-of-week.")
Zone = Field(description="An IANA time zone the cron expression is read in.")


def valid_cron(value: str | None) -> str | None:
    if value is not None:
        cron.fields(value)
    return value


def valid_zone(value: str | None) -> str | None:
    if value is not None:
        cron.zone(value)
    return value


class ScheduleIn(Schema):
    cron: str = Field(..., max_length=200, examples=["0 9 * * 1-5"], description=Cron.description)
    timezone: str = Field("UTC", max_length=64, description=Zone.description)
    input: Any = Field(default_factory=dict, description="The input of every run it starts.")
    enabled: bool = True
    name: str = Field("", max_length=200)
    version: int | None = Field(
        None, ge=1, le=MAX_VERSION, description="The team version; the latest if null."
    )

    _cron = field_validator("cron")(valid_cron)
    _zone = field_validator("timezone")(valid_zone)
    _input_not_null = field_validator("input")(not_null)


class SchedulePatch(Schema):
    cron: str | None = Field(None, max_length=200, description=Cron.description)
    timezone: str | None = Field(None, max_length=64, description=Zone.description)
    input: Any = None
    enabled: bool | None = None
    name: str | None = Field(None, max_length=200)
    version: int | None = Field(None, ge=1, le=MAX_VERSION)

    _cron = field_validator("cron")(valid_cron)
    _zone = field_validator("timezone")(valid_zone)
    _input_not_null = field_validator("input")(not_null)


class FiringOut(Schema):
    tick: datetime
    run_id: str | None
    error: str
    duplicates: int


class ScheduleOut(Schema):
    id: int
    team_id: int
    name: str
    cron: str
    timezone: str
    input: Any
    version: int | None
    enabled: bool
    next_run_at: datetime | None
    recent_firings: list[FiringOut]
    created_at: datetime


def schedule_out(schedule: Schedule) -> dict[str, Any]:
    now = timezone.now()
    firings = ScheduleFiring.objects.filter(schedule=schedule)[:10]
    return {
        **{f: getattr(schedule, f) for f in ("id", "team_id", "name", "cron", "timezone")},
        **{f: getattr(schedule, f) for f in ("input", "version", "enabled", "created_at")},
        "next_run_at": cron.next_tick(schedule.cron, schedule.timezone, now)
        if schedule.enabled
        else None,
        "recent_firings": [
            {
                "tick": f.tick,
                "run_id": str(f.run_id) if f.run_id else None,
                "error": f.error,
                "duplicates": f.duplicates,
            }
            for f in firings
        ],
    }


def refused(field: str, message: str) -> Status:
    return Status(
        422, {"detail": message, "problems": [error("invalid", message, path=field).model_dump()]}
    )


def _team(request: HttpRequest, team_id: int) -> Team:
    return operations.get(
        Team.objects.all(), request, pk=team_id, not_found=f"Team {team_id} was not found."
    )


def _on_team(queryset: Any, request: HttpRequest, what: str, pk: int) -> Any:
    """A schedule or trigger, checked through its team's workspace."""
    return access.get_object(
        queryset,
        request.auth,
        operations.needed(request),
        path="team__workspace",
        not_found=f"{what} {pk} was not found.",
        pk=pk,
    )


@router.get("/teams/{team_id}/schedules", response={200: list[ScheduleOut], 404: ErrorOut})
@requires("schedule.view")
def list_schedules(request: HttpRequest, team_id: int) -> Any:
    return [schedule_out(s) for s in _team(request, team_id).schedules.all()]


@router.post(
    "/teams/{team_id}/schedules", response={201: ScheduleOut, 404: ErrorOut, 422: ProblemsOut}
)
@requires("schedule.edit")
def create_schedule(request: HttpRequest, team_id: int, payload: ScheduleIn) -> Any:
    team = _team(request, team_id)
    if full := actions.team_full(team, "schedules"):
        return refused("cron", full)
    schedule = Schedule(team=team, **payload.model_dump())
    return Status(201, schedule_out(actions.do_save_schedule(schedule, rearm=True)))


@router.patch(
    "/schedules/{schedule_id}", response={200: ScheduleOut, 404: ErrorOut, 422: ProblemsOut}
)
@requires("schedule.edit")
def update_schedule(request: HttpRequest, schedule_id: int, payload: SchedulePatch) -> Any:
    schedule = _on_team(Schedule.objects.all(), request, "Schedule", schedule_id)
    changes = payload.model_dump(exclude_unset=True)
    for name in ("cron", "timezone", "enabled", "name"):
        if changes.get(name, ...) is None:
            return refused(name, f"{name} cannot be null; leave it out to keep it.")
    rearm = any(
        name in changes and changes[name] != getattr(schedule, name)
        for name in ("cron", "timezone", "enabled")
    )
    for name, value in changes.items():
        setattr(schedule, name, value)
    return schedule_out(actions.do_save_schedule(schedule, rearm=rearm))


@router.delete("/schedules/{schedule_id}", response={204: None, 404: ErrorOut})
@requires("schedule.edit")
def delete_schedule(request: HttpRequest, schedule_id: int) -> Any:
    actions.do_delete_schedule(_on_team(Schedule.objects.all(), request, "Schedule", schedule_id))
    return Status(204, None)


# Triggers ------------------------------------------------------------------------------------


class TriggerIn(Schema):
    name: str = Field("", max_length=200)
    scheme: Literal["orchestrator", "github"] = Field(
        "orchestrator",
        description="How calls are signed: `orchestrator` (HMAC-SHA256 over timestamp and body, "
        "as our outgoing webhooks) or `github` (GitHub's X-Hub-Signature-256 over the body).",
    )
    input_pointer: str = Field(
        "",
        max_length=500,
        description="A JSON pointer (RFC 6901) to the part of the body that is the run's input, "
        "e.g. `/pull_request`; the whole body if empty.",
    )
    version: int | None = Field(None, ge=1, le=MAX_VERSION)

    @field_validator("input_pointer")
    @classmethod
    def pointer(cls, value: str) -> str:
        signing.parse_pointer(value)
        return value


class TriggerOut(Schema):
    id: int
    team_id: int
    name: str
    scheme: str
    input_pointer: str
    version: int | None
    url: str
    created_at: datetime
    last_called_at: datetime | None


class TriggerCreated(TriggerOut):
    secret: str = Field(description="Signs every call. Shown only now: keep it.")


class TriggerRunOut(Schema):
    run_id: str
    status: str
    created: bool = Field(description="False when an earlier call with the same key started it.")
    run_url: str
    api_url: str
    events_url: str


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def trigger_out(trigger: Trigger) -> dict[str, Any]:
    fields = ("id", "team_id", "name", "scheme", "input_pointer", "version", "created_at")
    return {
        **{f: getattr(trigger, f) for f in fields},
        "last_called_at": trigger.last_called_at,
        "url": absolute(reverse("api:trigger-call", args=[trigger.token])),
    }


@router.get("/teams/{team_id}/triggers", response={200: list[TriggerOut], 404: ErrorOut})
@requires("schedule.view")
def list_triggers(request: HttpRequest, team_id: int) -> Any:
    return [trigger_out(t) for t in _team(request, team_id).triggers.all()]


@router.post(
    "/teams/{team_id}/triggers", response={201: TriggerCreated, 404: ErrorOut, 422: ProblemsOut}
)
@requires("schedule.edit")
def create_trigger(request: HttpRequest, team_id: int, payload: TriggerIn) -> Any:
    team = _team(request, team_id)
    if full := actions.team_full(team, "triggers"):
        return refused("name", full)
    trigger, secret = actions.do_create_trigger(team, **payload.model_dump())
    return Status(201, {**trigger_out(trigger), "secret": secret})


@router.delete("/triggers/{trigger_id}", response={204: None, 404: ErrorOut})
@requires("schedule.edit")
def delete_trigger(request: HttpRequest, trigger_id: int) -> Any:
    actions.do_delete_trigger(_on_team(Trigger.objects.all(), request, "Trigger", trigger_id))
    return Status(204, None)


@router.post(
    "/hooks/{token}",
    auth=None,
    url_name="trigger-call",
    response={200: TriggerRunOut, 201: TriggerRunOut, 401: ErrorOut, 404: ErrorOut,
              413: ErrorOut, 422: ProblemsOut},
)  # fmt: skip
@requires(None)  # the trigger's signature is its own authentication
def call_trigger(request: HttpRequest, token: str) -> Any:
    """Start a run of the trigger's team. Signed with the trigger's secret (see
    docs/putting-a-team-to-work.md); `Idempotency-Key` makes a retry return the same run."""
    trigger = Trigger.objects.select_related("team__owner").filter(token=token).first()
    if trigger is None:
        raise HttpError(404, "No trigger has this URL; it may have been deleted.")
    body = bodies.capped_body(request, signing.max_body_bytes())
    signature = signing.verify(trigger, request.headers, body)
    task_input = signing.input_of(body, trigger.input_pointer)
    key = request.headers.get("Idempotency-Key") or None
    if key is not None and len(key) > 200:
        raise HttpError(422, "The Idempotency-Key may have at most 200 characters.")
    try:
        run, created = actions.do_call_trigger(trigger, task_input, signature, key)
    except actions.RunRefused as exc:
        return Status(422, {"detail": exc.detail, "problems": exc.problems})
    out = {
        "run_id": str(run.id),
        "status": run.status,
        "created": created,
        "run_url": absolute(f"/runs/{run.id}/"),
        "api_url": absolute(reverse("api:run", args=[run.id])),
        "events_url": absolute(reverse("api:run-events", args=[run.id])),
    }
    return Status(201 if created else 200, out)
