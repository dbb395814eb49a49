"""A conversation with a team: a sequence of runs of one team version (or of the builder's
draft), one per message a person sends. The answers are the runs' outputs; nothing of a run
is copied here, so a turn always says what its run says."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from workspaces.models import InWorkspace


class Conversation(InWorkspace):
    VIEW_PERMISSION = "run.view"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="conversations"
    )
    team = models.ForeignKey("teams.Team", models.CASCADE, related_name="conversations")
    team_version = models.ForeignKey(
        "teams.TeamVersion",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        help_text="The saved version every turn runs; empty for a draft's conversation.",
    )
    draft = models.JSONField(
        null=True,
        blank=True,
        help_text="The unsaved TeamSpec every turn runs (the builder's playground).",
    )
    title = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["team", "-updated_at"])]

    def __str__(self) -> str:
        return self.title or f"conversation {self.pk}"

    @property
    def started_by(self) -> str:
        return f"conversation:{self.pk}"

    @property
    def spec(self) -> dict[str, Any]:
        return self.draft if self.team_version is None else self.team_version.spec


class Turn(models.Model):
    """One message a person sent, and the run that answers it."""

    conversation = models.ForeignKey(Conversation, models.CASCADE, related_name="turns")
    number = models.PositiveIntegerField()
    content = models.TextField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    run = models.ForeignKey("runs.Run", models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["conversation", "number"], name="one_turn_per_number")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id} #{self.number}"
