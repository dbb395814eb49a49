"""The run as JSON, one shape for the API, the run page's first paint and the websocket's
summaries. Reading only: nothing here changes a run."""

from datetime import datetime
from typing import Any

from django.db.models import Max
from ninja import Field, Schema

from .engine.events import HUMAN_REQUESTED
from .engine.interfaces import answer_key
from .models import Run, RunEvent


class PendingHumanOut(Schema):
    activity_key: str
    node: str | None = None
    prompt: str | None = None
    answer_schema: dict[str, Any] | None = None
    kind: str = "human"


class ArtifactOut(Schema):
    id: str
    name: str
    content_type: str
    size: int
    url: str
    inline: bool = Field(
        description="Whether the file is served inline: PNG, JPEG, GIF and WebP images. "
        "Everything else is a download."
    )


class RunOut(Schema):
    id: str
    team_id: int | None
    team_name: str
    team_version: int | None
    status: str
    input: Any
    output: Any
    failure_reason: str
    waiting_for: str
    wake_at: datetime | None = Field(
        None,
        description="While the run waits on a question with a timeout: when the question "
        "fails as unanswered unless someone answers first.",
    )
    created_at: datetime
    started_by: str = Field(
        "",
        description="'schedule:<id>' or 'trigger:<id>' when one started it, 'token:<id>' for a "
        "person's API token, 'node-test:<node id>' for a test of one agent of a draft, "
        "'conversation:<id>' for the answer to a message of a conversation; empty when a "
        "person started a run of the team.",
    )
    started_at: datetime | None
    finished_at: datetime | None
    input_tokens: int
    output_tokens: int
    cost_usd: float
    last_seq: int
    pending_human: PendingHumanOut | None
    artifacts: list[ArtifactOut]
    archived_at: datetime | None = Field(
        None,
        description="When the run's events moved from the database to its archive "
        "(RUN_RETENTION_DAYS); its events are then only in the archive.",
    )
    archive_url: str | None = Field(
        None, description="Where its owner downloads the archive (JSON Lines, signed head last)."
    )


def pending_human(run: Run) -> dict[str, Any] | None:
    """The human.requested the run waits on: the latest one nobody has answered."""
    if run.status != Run.Status.WAITING:
        return None
    requested = pending_request(run)
    if requested is None:
        return None
    payload = requested.payload
    return {
        "activity_key": payload.get("activity_key") or "",
        "node": payload.get("node"),
        "prompt": payload.get("prompt"),
        "answer_schema": payload.get("answer_schema"),
        "kind": payload.get("kind") or "human",
    }


def pending_request(run: Run) -> RunEvent | None:
    answered = set(
        RunEvent.objects.filter(run=run, key__endswith="#answered").values_list("key", flat=True)
    )
    for event in RunEvent.objects.filter(run=run, type=HUMAN_REQUESTED).order_by("-seq"):
        if answer_key(event.payload.get("activity_key") or "") not in answered:
            return event
    return None


def run_out(run: Run) -> dict[str, Any]:
    last_seq = getattr(run, "last_seq", None)
    if run.is_archived:
        last_seq = (run.audit_head or {}).get("seq")
    elif last_seq is None:
        last_seq = run.events.aggregate(last=Max("seq"))["last"]
    return {
        "id": str(run.id),
        "team_id": run.team_id,
        "team_name": run.team_name,
        "team_version": run.team_version.number if run.team_version else None,
        "status": run.status,
        "input": run.input,
        "output": run.output,
        "failure_reason": run.failure_reason,
        "waiting_for": run.waiting_for,
        "wake_at": run.wake_at if run.status == Run.Status.WAITING else None,
        "created_at": run.created_at,
        "started_by": run.started_by,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "input_tokens": run.input_tokens,
        "output_tokens": run.output_tokens,
        "cost_usd": float(run.cost_usd),
        "last_seq": last_seq or 0,
        "pending_human": pending_human(run),
        "artifacts": [a.to_dict() for a in run.artifacts.all()],
        "archived_at": run.archived_at,
        "archive_url": f"/api/runs/{run.id}/archive" if run.is_archived else None,
    }


def run_json(run: Run) -> dict[str, Any]:
    """The run exactly as ``GET /api/runs/{id}`` returns it, as plain JSON: for the run page's
    first paint and the websocket's summaries."""
    return RunOut.model_validate(run_out(run)).model_dump(mode="json")
