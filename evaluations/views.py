"""The evaluation pages: an experiment (progress, summary, results) and the comparison of two.
Server-rendered from the same functions the API answers with; a running experiment's page
reloads itself every few seconds."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from workspaces import operations
from workspaces.operations import page

from . import comparison
from .api import _experiment_out
from .models import Experiment


def as_text(value: Any) -> str:
    """A JSON value as a person reads it in a table cell: text as it is, the rest as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _with_text(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return row | {f"{name}_text": as_text(row[name]) for name in names}


def _get(request: HttpRequest, experiment_id: int) -> Experiment:
    return operations.get(
        Experiment.objects.select_related("team_version", "team", "dataset", "workspace"),
        request,
        pk=experiment_id,
        not_found=f"Experiment {experiment_id} was not found.",
    )


@page("experiment.view")
def experiment_detail(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = _get(request, experiment_id)
    out = _experiment_out(experiment)
    progress = out["progress"]
    percent = round(100 * progress["done"] / progress["total"]) if progress["total"] else 0
    items = [
        _with_text(i.to_dict(), "input", "expected", "output")
        for i in experiment.items.select_related("item")
    ]
    return render(
        request,
        "evaluations/experiment.html",
        {"experiment": experiment, "out": out, "percent": percent, "items": items},
    )


@page("experiment.view")
def experiment_compare(request: HttpRequest, a: int, b: int) -> HttpResponse:
    left, right = _get(request, a), _get(request, b)
    found = comparison.compare(left, right)
    found["results"] = [_with_text(r, "input") for r in found["results"]]
    return render(request, "evaluations/compare.html", {"a": left, "b": right, "found": found})
