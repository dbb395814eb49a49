"""What starts a team's runs without a person pressing Run: schedules (cron in a time zone)
and signed triggers (a URL another system POSTs to)."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models

from workspaces import access


class TeamOwnedQuerySet(models.QuerySet):
    def for_user(self, user: Any, permission: str = "schedule.view") -> models.QuerySet:
        """Rows of teams in workspaces where ``user`` holds ``permission``."""
        return access.visible(self, user, permission, path="team__workspace")


class Schedule(models.Model):
    """Runs a team at every tick of a cron expression in a time zone. Celery beat fires it
    through the ``PeriodicTask`` kept in step with it (``triggers.actions``); the embedded
    default's web process fires it itself."""

    team = models.ForeignKey("teams.Team", models.CASCADE, related_name="schedules")
    name = models.CharField(max_length=200, blank=True)
    cron = models.CharField(max_length=200, help_text="Five fields: minute hour day month weekday.")
    timezone = models.CharField(max_length=64, default="UTC")
    input = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The team version to run; the latest if empty."
    )
    enabled = models.BooleanField(default=True)
    armed_at = models.DateTimeField(
        help_text="When it was created or its cron, zone or switch last changed: no tick "
        "before this fires."
    )
    last_tick = models.DateTimeField(null=True, blank=True, help_text="The last tick claimed.")
    periodic_task = models.OneToOneField(
        "django_celery_beat.PeriodicTask", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TeamOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.cron} ({self.timezone})"

    @property
    def started_by(self) -> str:
        return f"schedule:{self.id}"


class ScheduleFiring(models.Model):
    """One tick of a schedule, claimed once: the unique (schedule, tick) row is inserted
    before the run is created, so two beats (or a beat and a restart) start one run."""

    schedule = models.ForeignKey(Schedule, models.CASCADE, related_name="firings")
    tick = models.DateTimeField()
    run = models.ForeignKey("runs.Run", models.SET_NULL, null=True, blank=True, related_name="+")
    error = models.TextField(blank=True, help_text="Why no run started, if none did.")
    duplicates = models.PositiveIntegerField(
        default=0, help_text="Firings of the same tick refused after this one (a second beat)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-tick"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "tick"], name="one_firing_per_tick")
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} at {self.tick.isoformat()}"


def new_trigger_token() -> str:
    return secrets.token_urlsafe(24)


class Trigger(models.Model):
    """A URL that starts a run of its team when a POST to it is signed with its secret."""

    class Scheme(models.TextChoices):
        ORCHESTRATOR = "orchestrator", "HMAC-SHA256 over timestamp and body (our webhooks')"
        GITHUB = "github", "GitHub's X-Hub-Signature-256 over the body"

    team = models.ForeignKey("teams.Team", models.CASCADE, related_name="triggers")
    name = models.CharField(max_length=200, blank=True)
    token = models.CharField(max_length=64, unique=True, default=new_trigger_token)
    secret_encrypted = models.TextField(help_text="The signing secret, Fernet-encrypted.")
    scheme = models.CharField(max_length=20, choices=Scheme.choices, default=Scheme.ORCHESTRATOR)
    input_pointer = models.CharField(
        max_length=500,
        blank=True,
        help_text="JSON pointer to the input in the body; all of it if empty.",
    )
    version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_called_at = models.DateTimeField(null=True, blank=True)

    objects = TeamOwnedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or f"trigger {self.id}"

    @property
    def started_by(self) -> str:
        return f"trigger:{self.id}"


class TriggerCall(models.Model):
    """A call that started a run: found again by its idempotency key or its signature, so a
    repeat (a retry, or a captured request replayed) returns the same run."""

    trigger = models.ForeignKey(Trigger, models.CASCADE, related_name="calls")
    idempotency_key = models.CharField(max_length=200, blank=True)
    signature = models.CharField(max_length=200)
    run = models.ForeignKey("runs.Run", models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["trigger", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_run_per_key",
            ),
            models.UniqueConstraint(fields=["trigger", "signature"], name="one_run_per_signature"),
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id}: {self.run_id}"
