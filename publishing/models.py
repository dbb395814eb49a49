"""A team version published under a slug: callers holding one of its keys start runs of it
at ``/p/<slug>/runs`` and call it as a tool of the MCP server at ``/mcp/``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from teams.models import DigestToken

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$"


class PublicationQuerySet(models.QuerySet):
    def live(self) -> PublicationQuerySet:
        """Up, and published by an account the operator has not switched off (whose API
        tokens stop at once: so do its publications)."""
        return self.filter(unpublished_at__isnull=True, published_by__is_active=True)


class Publication(models.Model):
    """One team version offered under ``slug``. Runs it starts belong to ``published_by``
    (counted against their quotas, in the team's workspace); unpublishing keeps the row, so
    those runs stay attributed, and makes every key of it fail."""

    team = models.ForeignKey("teams.Team", models.CASCADE, related_name="publications")
    version = models.PositiveIntegerField(help_text="The team version it runs.")
    slug = models.SlugField(max_length=50, unique=True)
    rate_limit = models.CharField(
        max_length=50,
        blank=True,
        help_text="Calls per key, e.g. '60/minute'; the default if empty.",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="publications"
    )
    widget_origins = models.JSONField(
        default=list,
        blank=True,
        help_text="Origins (https://shop.example.com) whose pages may embed the chat widget; "
        "empty: no widget.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    unpublished_at = models.DateTimeField(null=True, blank=True)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_live(self) -> bool:
        return self.unpublished_at is None

    @property
    def rate(self) -> str:
        return self.rate_limit or settings.PUBLICATION_RATE_LIMIT

    @property
    def started_by(self) -> str:
        return f"publication:{self.id}"


class PublicationKeyQuerySet(models.QuerySet):
    def active(self) -> PublicationKeyQuerySet:
        return self.filter(
            revoked_at__isnull=True,
            publication__unpublished_at__isnull=True,
            publication__published_by__is_active=True,
        )


class PublicationKey(DigestToken):
    """A bearer key for one publication. Stored as its sha256 digest, as ``ApiToken`` is; the
    key itself is shown once."""

    PREFIX = "pub_"

    publication = models.ForeignKey(Publication, models.CASCADE, related_name="keys")
    hint = models.CharField(max_length=16, help_text="The key's first characters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PublicationKeyQuerySet.as_manager()

    @classmethod
    def issue(cls, publication: Publication, name: str, by: Any) -> tuple[PublicationKey, str]:
        return cls.mint(publication=publication, name=name, created_by=by)

    @classmethod
    def authenticate(cls, key: str) -> PublicationKey | None:
        """The key's row (with its publication and team), or None for an unknown or revoked
        key, or one of a publication taken down."""
        rows = cls.objects.active().select_related("publication__team", "publication__published_by")
        return cls.used(rows, key)


class PublishedRun(models.Model):
    """Which publication, and which of its keys, started a run: a key reads only these."""

    run = models.OneToOneField("runs.Run", models.CASCADE, related_name="publication_start")
    publication = models.ForeignKey(Publication, models.CASCADE, related_name="runs")
    key = models.ForeignKey(PublicationKey, models.SET_NULL, null=True, related_name="runs")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.run_id} via {self.publication_id}"


class WidgetConversation(models.Model):
    """A conversation a visitor started through the publication's chat widget. The visitor
    holds its token (stored as its sha256 digest); the token alone reaches it, never its id."""

    publication = models.ForeignKey(
        Publication, models.CASCADE, related_name="widget_conversations"
    )
    conversation = models.OneToOneField(
        "conversations.Conversation", models.CASCADE, related_name="widget"
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"widget conversation {self.conversation_id} via {self.publication_id}"
