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
        _with_text(i.to_dict(), "input", "expected", "output") | {"badge": i.badge()}
        for i in experiment.items.select_related("item")
    ]
    # The other experiments on the dataset, to compare this one with (as the baseline).
    others = (
        Experiment.objects.filter(dataset=experiment.dataset_id)
        .exclude(pk=experiment.pk)
        .select_related("team_version")[:10]
    )
    context = {
        "experiment": experiment, "out": out, "percent": percent, "items": items,
        "others": others,
    }  # fmt: skip
    return render(request, "evaluations/experiment.html", context)


def chart_data(found: dict[str, Any]) -> dict[str, Any]:
    """What the comparison's charts draw (``frontend/src/evaluations/charts.ts``): per shared
    item, each side's scores and cost."""

    def side(s: dict[str, Any]) -> dict[str, Any]:
        scores = {name: float(r["score"]) for name, r in s["scores"].items()}
        return {"scores": scores, "cost_usd": s["cost_usd"]}

    return {
        "a": found["a"],
        "b": found["b"],
        "scorers": sorted(found["scorers"]),
        "items": [
            {"item_id": r["item_id"], "a": side(r["a"]), "b": side(r["b"])}
            for r in found["results"]
        ],
    }


@page("experiment.view")
def experiment_compare(request: HttpRequest, a: int, b: int) -> HttpResponse:
    left, right = _get(request, a), _get(request, b)
    found = comparison.compare(left, right)
    charts = chart_data(found)
    found["results"] = [_with_text(r, "input") for r in found["results"]]
    context = {"a": left, "b": right, "found": found, "charts": charts}
    return render(request, "evaluations/compare.html", context)
