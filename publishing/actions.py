"""Every change to publications and their keys, and every run a publication starts (``do_*``
functions; the API, the public views and the MCP server call these)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from limits import RateLimitItem, parse

from orchestration_site import quotas
from runs.models import Run
from teams.models import Team
from triggers.actions import RunRefused, do_start_run

from .models import Publication, PublicationKey, PublishedRun

__all__ = [
    "RunRefused",
    "SlugTaken",
    "TooManyKeys",
    "do_issue_key",
    "do_publish",
    "do_start",
    "do_unpublish",
]

#: Live keys one publication may have: each is a way in to keep track of, with a rate of its
#: own (so more keys would multiply the publication's rate).
MAX_KEYS = 50


class SlugTaken(ValueError):
    """Another team is published under the slug (or was: slugs are not handed on)."""


def do_publish(
    team: Team,
    version: int,
    slug: str,
    rate_limit: str,
    by: Any,
    widget_origins: list[str] | None = None,
) -> Publication:
    """Publish ``version`` of ``team`` under ``slug``. Publishing again under a slug the team
    already has moves it to the new version (its keys keep working) and puts it back up if it
    was taken down (with none of the keys it had: ``do_unpublish`` revoked them).
    ``widget_origins`` (checked by ``origins.checked``) replaces the origins that may embed
    its chat widget; None keeps them."""
    with transaction.atomic():
        found = Publication.objects.select_for_update().filter(slug=slug).first()
        if found is not None and found.team_id != team.id:
            raise SlugTaken(f"The slug {slug!r} is taken; choose another.")
        publication = found or Publication(team=team, slug=slug)
        publication.version = version
        publication.rate_limit = rate_limit
        publication.published_by = by
        publication.unpublished_at = None
        if widget_origins is not None:
            publication.widget_origins = widget_origins
        publication.save()
    return publication


class TooManyKeys(ValueError):
    """The publication has ``MAX_KEYS`` live keys already."""


def do_issue_key(publication: Publication, name: str, by: Any) -> tuple[PublicationKey, str]:
    """A new key of ``publication`` and its text (shown once); ``TooManyKeys`` at the cap."""
    with transaction.atomic():
        locked = Publication.objects.select_for_update().get(pk=publication.pk)
        if locked.keys.filter(revoked_at__isnull=True).count() >= MAX_KEYS:
            raise TooManyKeys(f"A publication has at most {MAX_KEYS} keys; revoke one first.")
        return PublicationKey.issue(locked, name, by)


def do_unpublish(publication: Publication) -> None:
    """Take ``publication`` down and revoke its keys: publishing it again must not bring
    back a key that may have leaked, or one given to a caller it was taken down to stop."""
    with transaction.atomic():
        locked = Publication.objects.select_for_update().get(pk=publication.pk)
        if locked.unpublished_at is None:
            locked.unpublished_at = timezone.now()
            locked.save(update_fields=["unpublished_at"])
            locked.keys.filter(revoked_at__isnull=True).update(revoked_at=locked.unpublished_at)
    publication.unpublished_at = locked.unpublished_at


@dataclass(frozen=True)
class KeyRate(quotas.Rate):
    """A publication's own rate, counted per key with the site's limiter."""

    rate: str = ""

    def item(self) -> RateLimitItem | None:
        return parse(self.rate) if self.rate else None


def admit(key: PublicationKey) -> None:
    """Count one call with ``key``; ``QuotaExceeded`` (429 with Retry-After) once its
    publication's rate is used up."""
    rate = KeyRate("PUBLICATION_RATE_LIMIT", "calls with this key", rate=key.publication.rate)
    quotas.hit(rate, "key", key.id)


def do_start(key: PublicationKey, task_input: Any) -> Run:
    """A run of the key's publication, owned by its publisher and recorded as started by
    ``publication:<id>`` with this key (``RunRefused``: a 422; ``QuotaExceeded``: a 429)."""
    publication = key.publication
    with transaction.atomic():
        run = do_start_run(
            publication.team,
            publication.version,
            task_input,
            f"{publication.started_by}/key:{key.id}",
            owner=publication.published_by,
        )
        PublishedRun.objects.create(run=run, publication=publication, key=key)
    return run


def published_run(key: PublicationKey, run_id: Any) -> Run | None:
    """The run ``run_id`` if the key's publication started it; None otherwise."""
    start = (
        PublishedRun.objects.filter(publication=key.publication, run_id=run_id)
        .select_related("run")
        .first()
    )
    return start.run if start is not None else None


def run_answer(publication: Publication, run: Run) -> dict[str, Any]:
    """What a caller of the publication learns about one of its runs."""
    base = settings.SITE_URL.rstrip("/")
    return {
        "run_id": str(run.id),
        "status": run.status,
        "finished": run.is_finished,
        "output": run.output,
        "failure_reason": run.failure_reason,
        "waiting_for": run.waiting_for,
        "url": base + reverse("publication-run", args=[publication.slug, run.id]),
        "run_url": f"{base}/runs/{run.id}/",
    }
