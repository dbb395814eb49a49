"""The evaluations part of the JSON API: datasets (items added by JSON, by a JSONL or CSV
upload, or from runs), experiments (a team version over a dataset version, scored), and the
comparison of two experiments. Everything lives in a workspace (``?workspace=`` to list,
``"workspace"`` in the body to create); one of a workspace the caller is not in answers 404.
"""

from __future__ import annotations

from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from pydantic import Field

from runs.api import team_version
from teams.models import Team
from workspaces import operations
from workspaces.operations import WORKSPACE_QUERY, InWorkspaceBody, requires

from . import actions, comparison, judging, tasks
from .actions import BadRows, CassetteIn, ItemIn, Problems
from .models import Dataset, Experiment, ExperimentItem
from .scorers import ScorerSpec

router = Router(tags=["evaluations"])

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


# --- shapes ------------------------------------------------------------------------------


class ProblemsOut(Schema):
    detail: str
    problems: list[dict[str, Any]] = []


class DatasetIn(InWorkspaceBody):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    items: list[ItemIn] = Field(default_factory=list, max_length=actions.MAX_ITEMS_PER_REQUEST)


class DatasetOut(Schema):
    id: int
    workspace: str
    name: str
    description: str
    version: int = Field(..., description="Bumped by every change to the items.")
    items: int = Field(..., description="How many items the current version holds.")
    created_at: str


class ItemOut(Schema):
    id: int
    input: Any
    expected: Any
    tags: list[str]
    source_run: str | None
    added_in: int


class ItemsIn(Schema):
    items: list[ItemIn] = Field(..., min_length=1, max_length=actions.MAX_ITEMS_PER_REQUEST)


class FromRunsIn(Schema):
    run_ids: list[str] = Field(..., min_length=1, max_length=500)


class ExperimentIn(Schema):
    team_id: int
    version: int | None = Field(None, ge=1, description="Team version; the current if omitted.")
    dataset_id: int
    scorers: list[ScorerSpec] = Field(..., min_length=1, max_length=20)
    concurrency: int = Field(4, ge=1, le=200, description="Runs in flight at once.")
    cassette: CassetteIn | None = Field(
        None,
        description='Record the model answers ({"record": true}), or replay those an '
        'experiment recorded ({"replay": <experiment id>, "on_miss": "live"|"fail"}).',
    )


class ScoreSummary(Schema):
    mean: float
    low: float
    high: float


class ExperimentOut(Schema):
    id: int
    workspace: str
    team_id: int
    team_version: int
    dataset_id: int
    dataset_version: int
    scorers: list[dict[str, Any]]
    concurrency: int
    cassette: dict[str, Any] | None = Field(
        ...,
        description="record: the cassette it records into, replay: the one it replays, "
        "on_miss; null without cassettes.",
    )
    status: Literal["running", "finished", "cancelled"]
    progress: dict[str, int] = Field(
        ..., description="done, total, running, pending, cancelled, failed (done, run not ok)."
    )
    summary: dict[str, ScoreSummary] = Field(
        ..., description="Each scorer's mean over the done items, with a bootstrap 95% interval."
    )
    cost_usd: float
    created_at: str
    finished_at: str | None


class ExperimentItemOut(Schema):
    item_id: int
    status: str
    run_id: str | None
    run_status: str
    input: Any
    expected: Any
    output: Any
    scores: dict[str, dict[str, Any]]
    cost_usd: float
    input_tokens: int
    output_tokens: int
    latency_s: float | None


# --- datasets ----------------------------------------------------------------------------


def _dataset(request: HttpRequest, dataset_id: int) -> Dataset:
    return operations.get(
        Dataset.objects.all(),
        request,
        pk=dataset_id,
        not_found=f"Dataset {dataset_id} was not found.",
    )


def _dataset_out(dataset: Dataset) -> dict[str, Any]:
    return {
        "id": dataset.pk,
        "workspace": dataset.workspace.slug,
        "name": dataset.name,
        "description": dataset.description,
        "version": dataset.version,
        "items": dataset.items_at().count(),
        "created_at": dataset.created_at.isoformat(),
    }


def _item_out(item: Any) -> dict[str, Any]:
    return {
        "id": item.pk,
        "input": item.input,
        "expected": item.expected,
        "tags": item.tags,
        "source_run": str(item.source_run_id) if item.source_run_id else None,
        "added_in": item.added_in,
    }


def _bad_rows(exc: BadRows) -> Status:
    lines = [str(p["line"]) for p in exc.problems if p.get("line") is not None]
    where = f" (lines {', '.join(lines[:10])})" if lines else ""
    detail = (
        f"Nothing was stored: {exc.problems[0]['message']}"
        if not lines
        else (f"Nothing was stored: {len(exc.problems)} rows are not items{where}.")
    )
    return Status(422, {"detail": detail, "problems": exc.problems})


@router.get("/datasets", response={200: list[DatasetOut], 404: ProblemsOut})
@requires("dataset.view")
def list_datasets(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    place = operations.workspace(request, workspace)
    return [
        _dataset_out(d) for d in Dataset.objects.in_workspace(place).select_related("workspace")
    ]


@router.post("/datasets", response={201: DatasetOut, 404: ProblemsOut, 422: ProblemsOut})
@requires("dataset.edit")
def create_dataset(request: HttpRequest, body: DatasetIn) -> Any:
    place = operations.workspace(request, body.workspace)
    dataset = actions.do_create_dataset(request.auth, place, body.name, body.description)
    if body.items:
        actions.do_add_items(dataset, body.items)
    return Status(201, _dataset_out(dataset))


@router.get("/datasets/{int:dataset_id}", response=DatasetOut)
@requires("dataset.view")
def read_dataset(request: HttpRequest, dataset_id: int) -> Any:
    return _dataset_out(_dataset(request, dataset_id))


@router.delete("/datasets/{int:dataset_id}", response={204: None, 409: ProblemsOut})
@requires("dataset.edit")
def delete_dataset(request: HttpRequest, dataset_id: int) -> Any:
    dataset = _dataset(request, dataset_id)
    if dataset.experiments.exists():
        return Status(
            409,
            {
                "detail": "Experiments ran on this dataset; delete them first to keep their cases.",
                "problems": [],
            },
        )
    dataset.delete()
    return Status(204, None)


@router.get("/datasets/{int:dataset_id}/items", response=list[ItemOut])
@requires("dataset.view")
def list_items(request: HttpRequest, dataset_id: int, version: int | None = None) -> Any:
    """The items of a version of the dataset (the current one by default)."""
    return [_item_out(i) for i in _dataset(request, dataset_id).items_at(version)]


@router.post("/datasets/{int:dataset_id}/items", response={201: list[ItemOut], 422: ProblemsOut})
@requires("dataset.edit")
def add_items(request: HttpRequest, dataset_id: int, body: ItemsIn) -> Any:
    """Add items (as one new version of the dataset)."""
    try:
        made = actions.do_add_items(_dataset(request, dataset_id), body.items)
    except BadRows as exc:
        return _bad_rows(exc)
    return Status(201, [_item_out(i) for i in made])


@router.put(
    "/datasets/{int:dataset_id}/items/{int:item_id}", response={200: ItemOut, 404: ProblemsOut}
)
@requires("dataset.edit")
def replace_item(request: HttpRequest, dataset_id: int, item_id: int, body: ItemIn) -> Any:
    """Change an item: the dataset gets a new version in which the new item replaces it
    (experiments on earlier versions keep the old one)."""
    made = actions.do_replace_item(_dataset(request, dataset_id), item_id, body)
    if made is None:
        return Status(404, {"detail": f"Item {item_id} is not in the dataset.", "problems": []})
    return _item_out(made)


@router.delete(
    "/datasets/{int:dataset_id}/items/{int:item_id}", response={204: None, 404: ProblemsOut}
)
@requires("dataset.edit")
def remove_item(request: HttpRequest, dataset_id: int, item_id: int) -> Any:
    """Remove an item from the next version of the dataset."""
    if actions.do_replace_item(_dataset(request, dataset_id), item_id, None) is None:
        return Status(404, {"detail": f"Item {item_id} is not in the dataset.", "problems": []})
    return Status(204, None)


@router.post(
    "/datasets/{int:dataset_id}/items/upload", response={201: list[ItemOut], 422: ProblemsOut}
)
@requires("dataset.edit")
def upload_items(
    request: HttpRequest,
    dataset_id: int,
    file: File[UploadedFile],
    format: Literal["jsonl", "csv"] | None = None,
) -> Any:
    """Add the items of a JSON Lines file (one ``{"input", "expected", "tags"}`` object a line)
    or a CSV file (columns ``input``, ``expected``, ``tags``; a cell holding JSON is read as
    JSON); the format from the file name unless given. One bad row and nothing is stored:
    the 422 names every bad line."""
    dataset = _dataset(request, dataset_id)
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        raise HttpError(413, f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB.")
    fmt = format or ("csv" if (file.name or "").lower().endswith(".csv") else "jsonl")
    try:
        made = actions.do_add_items(dataset, actions.parse_upload(file.read(), fmt))
    except BadRows as exc:
        return _bad_rows(exc)
    return Status(201, [_item_out(i) for i in made])


@router.post(
    "/datasets/{int:dataset_id}/items/from-runs", response={201: list[ItemOut], 422: ProblemsOut}
)
@requires("dataset.edit")
def items_from_runs(request: HttpRequest, dataset_id: int, body: FromRunsIn) -> Any:
    """Add an item per run: its input as the item's input, its output as the expected one.
    You must be able to read each run; each must have succeeded."""
    dataset = _dataset(request, dataset_id)
    try:
        items, runs = actions.items_from_runs(request.auth, body.run_ids)
        made = actions.do_add_items(dataset, items, runs)
    except BadRows as exc:
        return _bad_rows(exc)
    return Status(201, [_item_out(i) for i in made])


# --- experiments -------------------------------------------------------------------------


def _experiment(request: HttpRequest, experiment_id: int) -> Experiment:
    return operations.get(
        Experiment.objects.select_related("team_version"),
        request,
        pk=experiment_id,
        not_found=f"Experiment {experiment_id} was not found.",
    )


def _experiment_out(experiment: Experiment) -> dict[str, Any]:
    done = list(
        experiment.items.filter(status=ExperimentItem.Status.DONE).values_list("scores", flat=True)
    )
    return {
        "id": experiment.pk,
        "workspace": experiment.workspace.slug,
        "team_id": experiment.team_id,
        "team_version": experiment.team_version.number,
        "dataset_id": experiment.dataset_id,
        "dataset_version": experiment.dataset_version,
        "scorers": experiment.scorers,
        "concurrency": experiment.concurrency,
        "cassette": experiment.cassette_dict(),
        "status": experiment.status,
        "progress": actions.progress(experiment),
        "summary": comparison.summary(done),
        "cost_usd": float(actions.cost(experiment)),
        "created_at": experiment.created_at.isoformat(),
        "finished_at": experiment.finished_at.isoformat() if experiment.finished_at else None,
    }


@router.get("/experiments", response={200: list[ExperimentOut], 404: ProblemsOut})
@requires("experiment.view")
def list_experiments(
    request: HttpRequest,
    workspace: str | None = Query(None, description=WORKSPACE_QUERY),
    team: int | None = None,
) -> Any:
    place = operations.workspace(request, workspace)
    found = Experiment.objects.in_workspace(place).select_related("team_version", "workspace")
    if team is not None:
        found = found.filter(team_id=team)
    return [_experiment_out(e) for e in found[:200]]


@router.post("/experiments", response={201: ExperimentOut, 404: ProblemsOut, 422: ProblemsOut})
@requires("experiment.start")
def start_experiment(request: HttpRequest, body: ExperimentIn) -> Any:
    """Run a team version over every item of a dataset's current version: each item is a run
    (started as ``POST /api/teams/{id}/runs`` starts one, by you), at most ``concurrency`` at
    once, each scored by every scorer when it ends."""
    team = operations.get(
        Team.objects.all(),
        request,
        pk=body.team_id,
        not_found=f"Team {body.team_id} was not found.",
    )
    dataset = _dataset(request, body.dataset_id)
    if dataset.workspace_id != team.workspace_id:
        return Status(
            422,
            {
                "detail": "The dataset and the team are in different workspaces.",
                "problems": [],
            },
        )
    version = team_version(team, body.version)
    if not version.is_valid:
        return Status(
            422,
            {
                "detail": f"Version {version.number} of this team has problems.",
                "problems": version.problems,
            },
        )
    try:
        tape = (
            actions.replay_tape(request.auth, team.workspace, body.cassette)
            if body.cassette
            else None
        )
        experiment = actions.do_start_experiment(
            request.auth, version, dataset, body.scorers, body.concurrency, tape
        )
    except Problems as exc:
        return Status(422, {"detail": exc.detail, "problems": exc.problems})
    except judging.UnknownModel as exc:
        return Status(422, {"detail": str(exc), "problems": []})
    transaction.on_commit(lambda: tasks.advance_soon(experiment.pk))
    return Status(201, _experiment_out(experiment))


@router.get("/experiments/compare", response={200: comparison.ComparisonOut, 404: ProblemsOut})
@requires("experiment.view")
def compare(request: HttpRequest, a: int, b: int) -> Any:
    """Experiment ``b`` against ``a`` (the baseline) on the items they share: per item both
    outputs, a diff and every scorer's result; per scorer both means with bootstrap 95%
    intervals and the difference; regressed and improved items first; cost and latency."""
    return comparison.compare(_experiment(request, a), _experiment(request, b))


@router.get("/experiments/{int:experiment_id}", response=ExperimentOut)
@requires("experiment.view")
def read_experiment(request: HttpRequest, experiment_id: int) -> Any:
    return _experiment_out(_experiment(request, experiment_id))


@router.get("/experiments/{int:experiment_id}/items", response=list[ExperimentItemOut])
@requires("experiment.view")
def experiment_items(request: HttpRequest, experiment_id: int) -> Any:
    experiment = _experiment(request, experiment_id)
    return [i.to_dict() for i in experiment.items.select_related("item")]


@router.post("/experiments/{int:experiment_id}/cancel", response=ExperimentOut)
@requires("experiment.start")
def cancel_experiment(request: HttpRequest, experiment_id: int) -> Any:
    """Start no more items and cancel the runs in flight; scored items keep their scores."""
    experiment = _experiment(request, experiment_id)
    return _experiment_out(actions.do_cancel(experiment, request.auth.get_username()))
