"""An experiment's progress, live: what its watchers are told and how word of a change
reaches them.

The worker's side is one tiny notice per step that changed something (``announce``), queued
on the run loop's ``Publisher`` after the step commits: no query and no Redis round trip on
the step's path, and a PUBLISH to a channel nobody subscribes to costs Redis next to nothing.
The web side (``evaluations.consumers``) reads the progress from the database when a notice
comes, at most every ``EXPERIMENT_WATCH_INTERVAL_S`` however many steps there were, once per
experiment and process for all of its watchers.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Avg, FloatField, Q, Sum
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast

from runs.broadcast import publish_soon
from runs.shell.loop import run_loop

from . import comparison, scorers
from .models import Experiment, ExperimentItem

#: What a step sends: that something changed (the watchers read what from the database).
CHANGED = {"type": "experiment.changed"}


def group_name(experiment_id: int) -> str:
    return f"experiment.{experiment_id}"


def announce(experiment_id: int) -> None:
    """Tell the experiment's watchers it changed, once the current transaction commits."""
    group = group_name(experiment_id)
    transaction.on_commit(lambda: run_loop.submit(publish_soon(group, [CHANGED])))


def _mean_of(label: str) -> Avg:
    score = KeyTextTransform("score", KeyTransform(label, "scores"))
    return Avg(Cast(score, FloatField()), filter=Q(status=ExperimentItem.Status.DONE))


def progress_message(experiment_id: int) -> dict[str, Any] | None:
    """What the experiment's watchers are sent now (None if it is gone): its status, counts
    and cost, each scorer's running mean, and once it has ended (``"type": "ended"``) the
    summary with intervals, as ``GET /api/experiments/{id}`` gives it. Two queries while it
    runs, whatever its size."""
    experiment = Experiment.objects.filter(pk=experiment_id).first()
    if experiment is None:
        return None
    labels = [spec.label for spec in scorers.SPECS.validate_python(experiment.scorers)]
    figures = experiment.items.aggregate(
        **ExperimentItem.progress_counts(),
        cost=Sum("cost_usd"),
        **{f"mean_{i}": _mean_of(label) for i, label in enumerate(labels)},
    )
    means = {
        label: round(mean, 6)
        for i, label in enumerate(labels)
        if (mean := figures.pop(f"mean_{i}")) is not None
    }
    cost = figures.pop("cost")
    message: dict[str, Any] = {
        "type": "progress",
        "id": experiment.pk,
        "status": experiment.status,
        "progress": figures,
        "means": means,
        "cost_usd": float(cost or 0),
    }
    if experiment.status != Experiment.Status.RUNNING:
        scored = experiment.items.filter(status=ExperimentItem.Status.DONE)
        message["type"] = "ended"
        message["summary"] = comparison.summary(list(scored.values_list("scores", flat=True)))
        message["finished_at"] = (
            experiment.finished_at.isoformat() if experiment.finished_at else None
        )
    return message
