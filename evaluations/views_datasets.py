"""The dataset pages: the datasets of the session's workspace (and a new one), a dataset's
items at any of its versions, an upload of items (all or nothing, every bad line named),
and the form that starts an experiment over it. They call the same actions as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from workspaces import operations
from workspaces.operations import page

from . import actions, judging, tasks
from .actions import BadRows, Problems
from .api import MAX_UPLOAD_BYTES
from .forms import DatasetForm, ExperimentForm, UploadForm
from .models import Dataset, Experiment
from .views import as_text

#: Items a dataset page lists (the API lists every one).
ITEMS_SHOWN = 200


def _get(request: HttpRequest, dataset_id: int) -> Dataset:
    return operations.get(
        Dataset.objects.select_related("workspace"),
        request,
        pk=dataset_id,
        not_found=f"Dataset {dataset_id} was not found.",
    )


@page({"GET": "dataset.view", "POST": "dataset.edit"})
def dataset_list(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    form = DatasetForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        dataset = actions.do_create_dataset(
            request.user, workspace, data["name"], data["description"]
        )
        messages.success(request, f"Dataset “{dataset.name}” created: add its items.")
        return redirect("dataset-detail", dataset.pk)
    datasets = [
        {"dataset": d, "items": d.items_at().count(), "experiments": d.experiments.count()}
        for d in Dataset.objects.in_workspace(workspace)
    ]
    return render(request, "evaluations/dataset_list.html", {"datasets": datasets, "form": form})


def _version(request: HttpRequest, dataset: Dataset) -> int:
    """The version asked for (``?version=``), the current one when none or no such one."""
    try:
        asked = int(request.GET.get("version", ""))
    except ValueError:
        return dataset.version
    return asked if 1 <= asked <= dataset.version else dataset.version


def _detail(
    request: HttpRequest,
    dataset: Dataset,
    upload: UploadForm | None = None,
    problems: list[dict[str, Any]] | None = None,
    status: int = 200,
) -> HttpResponse:
    version = _version(request, dataset)
    found = dataset.items_at(version).select_related("source_run")
    items = [
        {
            "item": i,
            "input": as_text(i.input),
            "expected": as_text(i.expected),
        }
        for i in found[:ITEMS_SHOWN]
    ]
    experiments = list(
        Experiment.objects.filter(dataset=dataset).select_related("team", "team_version")[:50]
    )
    context = {
        "dataset": dataset,
        "version": version,
        "versions": range(dataset.version, 0, -1),
        "items": items,
        "count": found.count(),
        "shown": ITEMS_SHOWN,
        "experiments": [
            {"experiment": e, "before": experiments[n + 1] if n + 1 < len(experiments) else None}
            for n, e in enumerate(experiments)
        ],
        "upload": upload or UploadForm(),
        "problems": problems or [],
    }
    return render(request, "evaluations/dataset_detail.html", context, status=status)


@page("dataset.view")
def dataset_detail(request: HttpRequest, dataset_id: int) -> HttpResponse:
    return _detail(request, _get(request, dataset_id))


@page("dataset.edit")
@require_POST
def dataset_upload(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """Add the items of a JSONL or CSV file; one bad row and nothing is stored, and the page
    lists every bad line."""
    dataset = _get(request, dataset_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, dataset, upload=form, status=422)
    file = form.cleaned_data["file"]
    if file.size > MAX_UPLOAD_BYTES:
        form.add_error("file", f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB.")
        return _detail(request, dataset, upload=form, status=422)
    fmt = "csv" if file.name.lower().endswith(".csv") else "jsonl"
    try:
        made = actions.do_add_items(dataset, actions.parse_upload(file.read(), fmt))
    except BadRows as exc:
        return _detail(request, dataset, upload=form, problems=exc.problems, status=422)
    messages.success(
        request, f"Added {len(made)} items from {file.name}: this is version {dataset.version}."
    )
    return redirect("dataset-detail", dataset.pk)


@page("experiment.start")
def dataset_experiment(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """Start an experiment over the dataset's current version: a team of its workspace, a
    version, the scorers with their options, and the concurrency."""
    dataset = _get(request, dataset_id)
    form = ExperimentForm(request.POST or None, workspace=dataset.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            experiment = _start(request, dataset, form)
        except Problems as exc:
            form.add_error(None, exc.detail)
            for problem in exc.problems[:10]:
                form.add_error(None, _problem_text(problem))
        else:
            messages.success(request, f"Experiment {experiment.pk} started.")
            return redirect("experiment-detail", experiment.pk)
    status = 422 if form.is_bound else 200
    context = {"dataset": dataset, "form": form, "items": dataset.items_at().count()}
    return render(request, "evaluations/experiment_new.html", context, status=status)


def _problem_text(problem: dict[str, Any]) -> str:
    if "item_id" in problem:
        found = "; ".join(str(p.get("message", p)) for p in problem.get("problems", [])[:3])
        return f"Item {problem['item_id']}: {found}"
    return str(problem.get("message", problem))


def _start(request: HttpRequest, dataset: Dataset, form: ExperimentForm) -> Experiment:
    data = form.cleaned_data
    team = data["team"]
    version = team.versions.filter(number=data["version"] or team.version).first()
    if version is None:
        raise Problems(f"Team {team.name} has no version {data['version']}.", [])
    if not version.is_valid:
        raise Problems(
            f"Version {version.number} of {team.name} has problems; fix them in the builder.",
            version.problems,
        )
    try:
        experiment = actions.do_start_experiment(
            request.user, version, dataset, form.specs, data["concurrency"]
        )
    except judging.UnknownModel as exc:
        raise Problems(str(exc), []) from None
    transaction.on_commit(lambda: tasks.advance_soon(experiment.pk))
    return experiment
