"""Evaluations: datasets of cases (an input, perhaps the output expected) and experiments,
which run one team version over every case of one dataset version and score each output.

A dataset is versioned without copies: an item is never changed in place; it is added in one
version (``added_in``) and, when removed or replaced, retired in a later one (``retired_in``).
The items of version v are those added at or before v and not retired at or before v, so an
experiment that recorded v reads exactly the cases it ran on, whatever changed since.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, Q

from workspaces.access import WorkspaceQuerySet
from workspaces.models import InWorkspace


class Dataset(InWorkspace):
    VIEW_PERMISSION = "dataset.view"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    #: Bumped by every change to its items; 0 for a dataset with none yet.
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name

    def items_at(self, version: int | None = None) -> models.QuerySet[DatasetItem]:
        """The items of ``version`` (the current one by default), in the order they were added."""
        at = self.version if version is None else version
        return self.items.filter(added_in__lte=at).filter(
            Q(retired_in__isnull=True) | Q(retired_in__gt=at)
        )


class DatasetItem(models.Model):
    dataset = models.ForeignKey(Dataset, models.CASCADE, related_name="items")
    input = models.JSONField()
    expected = models.JSONField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    #: The run it was recorded from, if any (``items/from-runs``).
    source_run = models.ForeignKey(
        "runs.Run", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_in = models.PositiveIntegerField()
    retired_in = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"item {self.pk} of {self.dataset_id}"


class Experiment(InWorkspace):
    VIEW_PERMISSION = "experiment.view"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        CANCELLED = "cancelled", "Cancelled"

    class OnMiss(models.TextChoices):
        LIVE = "live", "Call the model"
        FAIL = "fail", "Fail the item"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="+")
    team = models.ForeignKey("teams.Team", models.CASCADE, related_name="experiments")
    team_version = models.ForeignKey("teams.TeamVersion", models.RESTRICT, related_name="+")
    dataset = models.ForeignKey(Dataset, models.RESTRICT, related_name="experiments")
    dataset_version = models.PositiveIntegerField()
    #: The scorers as given (``evaluations.scorers.ScorerSpec`` each).
    scorers = models.JSONField(default=list)
    concurrency = models.PositiveIntegerField(default=4)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: The chain of ``evaluations.tasks.advance`` calls that moves it (one at a time: a task
    #: whose token is not this one stops), and when that chain last moved it.
    chain = models.CharField(max_length=32, blank=True)
    advanced_at = models.DateTimeField(null=True, blank=True)
    #: The cassette its items' model answers are recorded into (``"record": true``).
    recording = models.OneToOneField(
        "Cassette", models.SET_NULL, null=True, blank=True, related_name="recorded_by"
    )
    #: The cassette its items' model calls are answered from (``"replay"``), and what a call
    #: it does not hold does: ``live`` calls the model, ``fail`` fails the item's run.
    replay = models.ForeignKey(
        "Cassette", models.SET_NULL, null=True, blank=True, related_name="replayed_by"
    )
    on_miss = models.CharField(max_length=4, choices=OnMiss.choices, default=OnMiss.FAIL)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.team_id} v{self.team_version_id} on {self.dataset_id}"

    def cassette_dict(self) -> dict[str, Any] | None:
        if self.recording_id is None and self.replay_id is None:
            return None
        return {"record": self.recording_id, "replay": self.replay_id, "on_miss": self.on_miss}


def runs_started_by(experiment_id: int) -> str:
    """The ``started_by`` of an experiment's runs (``experiment_of`` reads it back)."""
    return f"experiment:{experiment_id}"


def experiment_of(started_by: str) -> int | None:
    """The id of the experiment that started a run, from its ``started_by``; None for a run
    no experiment started."""
    named = started_by.removeprefix("experiment:")
    return int(named) if named != started_by and named.isdigit() else None


class ExperimentItem(models.Model):
    """One case of an experiment: pending, then a run (started), then scored (done); an item
    whose run succeeded and that has a judge to ask is being scored between the two, its
    judges asked outside the experiment's lock while ``scoring_until`` (the lease) lasts."""

    # The labels are what the experiment page shows (``badge``); the API gives the values.
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        STARTED = "started", "Running"
        SCORING = "scoring", "Judging"
        DONE = "done", "Scored"
        CANCELLED = "cancelled", "Cancelled"

    # The unique (experiment, item) index serves every query by experiment.
    experiment = models.ForeignKey(Experiment, models.CASCADE, related_name="items", db_index=False)
    item = models.ForeignKey(DatasetItem, models.RESTRICT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    run = models.OneToOneField(
        "runs.Run", models.SET_NULL, null=True, blank=True, related_name="experiment_item"
    )
    run_status = models.CharField(max_length=10, blank=True)
    output = models.JSONField(null=True, blank=True)
    #: {scorer name: {"score": 0..1, "reason": "..."}}
    scores = models.JSONField(default=dict, blank=True)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=Decimal(0))
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    latency_s = models.FloatField(null=True, blank=True)
    #: While ``scoring``: the lease of the step asking its judges, which alone may write its
    #: scores (the value is its token); a later step takes the item over once it has passed.
    scoring_until = models.DateTimeField(null=True, blank=True)
    #: How many steps have held it for its judges (``actions.JUDGE_ATTEMPTS`` at most): each
    #: one whose judges could not be asked at all (``actions.score_held``) or whose worker
    #: died while asking them counts.
    judge_attempts = models.SmallIntegerField(default=0)  # no CHECK: adding it reads no rows

    class Meta:
        ordering = ["item_id"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "item"], name="one_case_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item_id} in {self.experiment_id}"

    @classmethod
    def progress_counts(cls) -> dict[str, Count]:
        """The aggregates of an experiment's progress: ``total``, ``done``, ``running``,
        ``pending``, ``cancelled`` and ``failed`` (done, but its run did not succeed). An item
        whose judges are being asked is still running: it is not done until it is scored."""
        done = Q(status=cls.Status.DONE)
        running = Q(status__in=[cls.Status.STARTED, cls.Status.SCORING])
        return {
            "total": Count("id"),
            "done": Count("id", filter=done),
            "running": Count("id", filter=running),
            "pending": Count("id", filter=Q(status=cls.Status.PENDING)),
            "cancelled": Count("id", filter=Q(status=cls.Status.CANCELLED)),
            "failed": Count("id", filter=done & ~Q(run_status="succeeded")),
        }

    def badge(self) -> tuple[str, str]:
        """Its status as the pages draw it (``runs/_status.html``): the badge's kind and its
        words. A case scored after its run failed or was cancelled says so."""
        if self.status == self.Status.DONE and self.run_status not in ("", "succeeded"):
            return self.run_status, f"Run {self.run_status}"
        kinds = {self.Status.PENDING: "queued", self.Status.STARTED: "running",
                 self.Status.SCORING: "judging", self.Status.DONE: "succeeded"}  # fmt: skip
        return kinds.get(self.Status(self.status), self.status), self.get_status_display()

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "status": self.status,
            "run_id": str(self.run_id) if self.run_id else None,
            "run_status": self.run_status,
            "input": self.item.input,
            "expected": self.item.expected,
            "output": self.output,
            "scores": self.scores,
            "cost_usd": float(self.cost_usd),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "latency_s": self.latency_s,
        }


class Cassette(InWorkspace):
    """Model answers recorded by an experiment, each under the hash of the request that got
    it (``evaluations.cassettes.request_key``), for later experiments to replay. It belongs
    to the recording experiment's workspace, and only that workspace's experiments replay it."""

    VIEW_PERMISSION = "experiment.view"

    created_at = models.DateTimeField(auto_now_add=True)

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"cassette {self.pk}"


class CassetteEntry(models.Model):
    cassette = models.ForeignKey(Cassette, models.CASCADE, related_name="entries")
    #: sha256 of the request's canonical JSON (provider, model, messages, tools, schema,
    #: temperature): never of a key, an activity key or an attempt.
    key = models.CharField(max_length=64)
    #: The engine's recorded form of the response (``runs.engine.activities``).
    response = models.JSONField()
    #: The text chunks it streamed, in order, so a replay streams them again.
    deltas = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cassette", "key"], name="one_answer_per_request")
        ]

    def __str__(self) -> str:
        return f"{self.key[:12]} in {self.cassette_id}"
