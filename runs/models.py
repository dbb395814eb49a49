"""Where a run lives: the run, its append-only event log (the audit trail) and its artifacts."""

from __future__ import annotations

import json
import unicodedata
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models

from teams.models import OwnedQuerySet
from workspaces.models import InWorkspace

from .engine.events import Event, canonical_json, canonical_object


class RunQuerySet(OwnedQuerySet):
    def active(self) -> RunQuerySet:
        return self.filter(status__in=Run.ACTIVE_STATUSES)

    def finished(self) -> RunQuerySet:
        return self.filter(status__in=Run.FINISHED_STATUSES)

    def archived(self) -> RunQuerySet:
        return self.filter(archived_at__isnull=False)


#: The input fields that hold what a person wrote, the most telling first: the runs and teams
#: lists show the first an input has instead of its JSON.
PREVIEW_FIELDS = (
    "subject", "title", "question", "message", "task", "topic", "prompt", "query", "request",
    "text", "body", "content", "description", "diff",
)  # fmt: skip


def agent_names(spec: Any) -> dict[str, str]:
    """Node id -> the name people gave it, nested teams' nodes included (events name agents by
    id; the run page shows names). The outermost name wins where ids repeat."""
    names: dict[str, str] = {}
    stack = [spec]
    while stack:
        team = stack.pop(0)
        nodes = team.get("nodes") if isinstance(team, dict) else None
        for node in nodes if isinstance(nodes, list) else []:
            if not isinstance(node, dict) or not isinstance(node.get("id"), str):
                continue
            names.setdefault(node["id"], str(node.get("name") or node["id"]))
            stack.append(node.get("spec"))
    return names


class Run(InWorkspace):
    VIEW_PERMISSION = "run.view"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting for a person"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING, Status.WAITING)
    FINISHED_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A run row is written several times (queued, claimed, finished), and its status changes
    # each time, so no update is HOT: each writes every index anew. The indexes are only
    # those a query needs (docs/architecture.md, "Run indexes"): the owner's and workspace's
    # lead the composite indexes below.
    workspace = models.ForeignKey(
        "workspaces.Workspace", models.CASCADE, related_name="runs", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="runs", db_index=False
    )
    # A run outlives edits and even deletion of its team: the audit trail must stay readable,
    # so the spec it ran is pinned here with nested team references resolved.
    team = models.ForeignKey(
        "teams.Team", models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    team_version = models.ForeignKey(
        "teams.TeamVersion", models.SET_NULL, null=True, blank=True, related_name="runs"
    )
    team_name = models.CharField(max_length=200)
    spec = models.JSONField(help_text="The resolved TeamSpec this run executes.")
    input = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(default=0, help_text="Seeds every random choice (retry jitter).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker executing it."
    )
    input_tokens = models.BigIntegerField(default=0)
    output_tokens = models.BigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)
    output = models.JSONField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    waiting_for = models.CharField(max_length=300, blank=True)
    wake_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the run is to be executed again without an answer: while it waits, its "
        "question's deadline; once woken, when to dispatch it again if nobody claimed it.",
    )
    cancel_requested = models.BooleanField(default=False)
    started_by = models.CharField(
        max_length=100,
        blank=True,
        help_text="What started the run when no person did: 'schedule:<id>' or 'trigger:<id>'.",
    )
    claimed_by = models.CharField(
        max_length=100,
        blank=True,
        help_text="The executor holding the run while it runs; a takeover changes it.",
    )
    source_run = models.ForeignKey(
        "self",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="derived_runs",
        db_index=False,
        help_text="The run this one replays or forks.",
    )
    forked_at_seq = models.PositiveIntegerField(null=True, blank=True)
    audit_head = models.JSONField(
        null=True,
        blank=True,
        editable=False,
        help_text="The seq and hash of the last event, signed whenever the run stops executing "
        "with a key the database does not hold (runs.heads).",
    )
    # Retention (runs.archive): an archived run keeps this row, and so stays listed; its
    # events live only in the archive file, in the audit export's format.
    archived_at = models.DateTimeField(null=True, blank=True)
    archive_path = models.CharField(
        max_length=300, blank=True, help_text="The archive file, relative to ARCHIVE_ROOT."
    )
    archive_sha256 = models.CharField(max_length=64, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["workspace", "-created_at"]),
            # The wake sweep (runs.wakes) reads due runs in wake_at order; few runs have one.
            models.Index(
                fields=["wake_at"], name="run_wake_at", condition=models.Q(wake_at__isnull=False)
            ),
            # The sweeps (runs.wakes) and /metrics read unfinished runs by status; a finished
            # run, most of the table, is not in it, and finishing one writes nothing to it.
            models.Index(
                fields=["status"],
                name="run_unfinished_status",
                condition=models.Q(status__in=["queued", "running", "waiting"]),
            ),
            # A workspace's runs that failed or were cancelled, newest first: the runs list
            # filtered by either status (and its count) reads only these, where the workspace's
            # index would walk all of its runs for the few. A run enters it once, as it ends.
            models.Index(
                fields=["workspace", "-created_at"],
                name="run_failed_or_cancelled",
                condition=models.Q(status__in=["failed", "cancelled"]),
            ),
            # Deleting a run sets its replays' and forks' source to NULL; few runs have one.
            models.Index(
                fields=["source_run"],
                name="run_source_run",
                condition=models.Q(source_run__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.team_name} run {self.id}"

    @staticmethod
    def attributed(starter: Any, fields: dict[str, Any]) -> dict[str, Any]:
        """``fields`` for a new run, with ``started_by`` saying ``token:<id>`` when
        ``starter`` used an API token (a schedule's or trigger's own ``started_by`` stays)."""
        scope = getattr(starter, "token_scope", None)
        if scope is not None and getattr(scope, "token_id", None) is not None:
            return {"started_by": f"token:{scope.token_id}", **fields}
        return fields

    @property
    def group_name(self) -> str:
        """The channel-layer group its events are broadcast to."""
        return f"run.{self.id}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def archive_file(self) -> Path:
        """The run's archive on disk: only ever a file under ARCHIVE_ROOT. A path in the
        database that points elsewhere (``..``, absolute) raises ValueError."""
        root = Path(settings.ARCHIVE_ROOT).resolve()
        path = (root / self.archive_path).resolve()
        if not self.archive_path or not path.is_relative_to(root):
            raise ValueError(f"the archive path {self.archive_path!r} is not under ARCHIVE_ROOT")
        return path

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED_STATUSES

    @property
    def input_preview(self) -> str:
        """The input on one line for lists: the text a person wrote (its lone text field, else
        the first of ``PREVIEW_FIELDS`` it has; a diff by its first line), else compact JSON
        (the template escapes it and cuts it to length)."""
        value: Any = self.input
        if isinstance(value, dict):
            texts = {k: v for k, v in value.items() if isinstance(v, str) and v.strip()}
            field = next((f for f in PREVIEW_FIELDS if f in texts), None)
            if field is None and len(value) == 1 and len(texts) == 1:
                (field,) = texts
            if field == "diff":
                value = next(line for line in texts[field].splitlines() if line.strip())
            elif field is not None:
                value = texts[field]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return " ".join(text.split())[:300]

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at
        if end is None:
            return None
        return (end - self.started_at).total_seconds()


class RunEvent(models.Model):
    """One event of a run: append-only, numbered without gaps, hash-chained to the one before."""

    # The unique (run, seq) and (run, key) indexes serve every query by run; every query by
    # type is also by run, so neither has an index of its own (docs/architecture.md).
    run = models.ForeignKey(Run, models.CASCADE, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    ts = models.DateTimeField()
    type = models.CharField(max_length=40)
    key = models.CharField(max_length=300)
    agent = models.CharField(max_length=200, blank=True)
    span_id = models.CharField(max_length=32, blank=True)
    parent_span_id = models.CharField(max_length=32, blank=True)
    payload = models.JSONField(default=dict)
    hash = models.CharField(max_length=64)

    #: Made by the sink when it chains the event, then stored, hashed and broadcast as they
    #: are instead of serialized again for each: the payload's canonical JSON and the
    #: event's (``to_json``). A chained event is not changed afterwards.
    payload_json: str | None = None
    event_json: str | None = None

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="unique_run_event_seq"),
            models.UniqueConstraint(fields=["run", "key"], name="unique_run_event_key"),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("Run events are append-only; they are never updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("Run events are append-only; they are never deleted.")

    def hashed_fields(self) -> dict[str, Any]:
        """What the hash chain covers: every field but the hash itself."""
        return {**self._header(), "payload": self.payload}

    def to_dict(self) -> dict[str, Any]:
        """The event as the API, the websocket and the audit export give it."""
        return {**self.hashed_fields(), "hash": self.hash}

    def json_members(self) -> dict[str, str]:
        """``hashed_fields()`` with each value in canonical JSON: what the chain hashes is
        ``canonical_object`` of them."""
        members = {name: canonical_json(value) for name, value in self._header().items()}
        members["payload"] = self.canonical_payload()
        return members

    def to_json(self) -> str:
        """``canonical_json(self.to_dict())``: an event of the websocket and the audit export."""
        if self.event_json is not None:
            return self.event_json
        return canonical_object({**self.json_members(), "hash": canonical_json(self.hash)})

    def _header(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "ts": self.ts.isoformat(),
            "type": self.type,
            "key": self.key,
            "agent": self.agent or None,
            "span_id": self.span_id or None,
            "parent_span_id": self.parent_span_id or None,
        }

    def canonical_payload(self) -> str:
        """The payload's canonical JSON (made once, by the sink, for the events it chains)."""
        return canonical_json(self.payload) if self.payload_json is None else self.payload_json

    def to_event(self) -> Event:
        """The event as the engine's journal reads it."""
        return Event(
            type=self.type,
            key=self.key,
            ts=self.ts.timestamp(),
            agent=self.agent or None,
            span_id=self.span_id or None,
            parent_span_id=self.parent_span_id or None,
            payload=self.payload,
        )


# Passive images only: no SVG, which is a document that can carry script.
INLINE_CONTENT_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


def artifact_path(instance: Artifact, filename: str) -> str:
    return f"artifacts/{instance.run_id}/{instance.id}-{filename}"


class Artifact(models.Model):
    """A file a run made (a chart, a report). Served only to the run's owner."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(Run, models.CASCADE, related_name="artifacts")
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=artifact_path)
    agent = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, Any]:
        """The reference the API, the engine's tool results and the run page use."""
        return {
            "id": str(self.id),
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "url": f"/api/artifacts/{self.id}",
            "inline": self.is_inline(),
        }

    def is_inline(self) -> bool:
        """Whether the file is a passive image, the only kind served (and shown) inline.

        A tool, and so a model or a remote server, chooses the bytes and the type: anything
        else (HTML, SVG, scripts, ...) would run on the app's origin if a browser rendered it.
        """
        return self.media_type() in INLINE_CONTENT_TYPES

    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    def served_content_type(self) -> str:
        """The type the file is served with: its allow-listed image type, or a download's."""
        return self.media_type() if self.is_inline() else "application/octet-stream"

    def download_name(self) -> str:
        """The name for Content-Disposition: the tool's name without control and format
        characters (newlines, right-to-left overrides that disguise an extension) or path
        separators, which could mislead a person or a client that saves it."""
        safe = "".join(
            "_" if c in "/\\" or unicodedata.category(c) in ("Cc", "Cf") else c for c in self.name
        )
        return safe.strip(" .") or "artifact"


class Webhook(models.Model):
    """A URL a team's owner wants POSTed to when a run of the team finishes, fails or waits.

    The secret signs every delivery (see ``runs.webhooks``); it is shown to the owner once,
    when the webhook is created, and is kept here because signing needs it.
    """

    class Kind(models.TextChoices):
        FINISHED = "finished", "Run finished"
        FAILED = "failed", "Run failed"
        WAITING = "waiting", "Run waits for a person"
        ESCALATED = "escalated", "Service level passed, escalated"

    team = models.ForeignKey("teams.Team", models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    events = models.JSONField(
        default=list, help_text="Which of finished, failed, waiting, escalated."
    )
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url

    def wants(self, kind: str) -> bool:
        return self.is_active and kind in self.events


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one webhook. Attempts of the same delivery share
    ``delivery_id`` (the receiver's idempotency key); a failed attempt says when the next is due."""

    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="deliveries")
    run = models.ForeignKey(Run, models.CASCADE, related_name="webhook_deliveries")
    delivery_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=20, choices=Webhook.Kind.choices)
    url = models.URLField(max_length=2000)
    attempt = models.PositiveSmallIntegerField()
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "attempt"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.attempt} to {self.url}"
