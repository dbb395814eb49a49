"""Publishing teams in the JSON API: publish a version under a slug, list and take down
publications, issue and revoke their keys. Another workspace's team or publication is a 404.
The published team's own endpoints are ``publishing.views`` and ``publishing.mcp``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.templatetags.static import static
from django.urls import reverse
from limits import parse
from ninja import Router, Schema, Status
from pydantic import Field, field_validator

from runs.api import ProblemsOut
from teams.models import Team
from teams.schemas import ErrorOut
from triggers.api import absolute, refused
from workspaces import access, operations
from workspaces.operations import requires

from . import actions, origins
from .models import SLUG_PATTERN, Publication, PublicationKey

router = Router(tags=["publishing"])

MAX_VERSION = 2**31 - 1


class PublishIn(Schema):
    version: int = Field(..., ge=1, le=MAX_VERSION, description="The team version to publish.")
    slug: str = Field(
        ...,
        pattern=SLUG_PATTERN,
        max_length=50,
        description="Lower-case letters, digits and hyphens; the team is called at /p/<slug>/.",
        examples=["support-triage"],
    )
    rate_limit: str = Field(
        "",
        max_length=50,
        description="Calls per key, e.g. `60/minute`; the site's default when empty.",
    )
    widget_origins: list[str] | None = Field(
        None,
        max_length=origins.MAX_ORIGINS,
        description="Origins whose pages may embed the chat widget, exactly as "
        "`https://shop.example.com` (no path, no wildcard); `[]` turns the widget off; "
        "left out, the publication keeps the ones it has.",
    )

    @field_validator("widget_origins")
    @classmethod
    def are_origins(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else origins.checked_list(value)

    @field_validator("rate_limit")
    @classmethod
    def parses(cls, value: str) -> str:
        if value:
            try:
                parse(value)
            except ValueError:
                raise ValueError(
                    f"{value!r} is not a rate; write it as '60/minute' or '1000 per day'."
                ) from None
        return value


class PublicationOut(Schema):
    id: int
    team_id: int
    version: int
    slug: str
    rate_limit: str
    widget_origins: list[str]
    live: bool
    runs_url: str
    mcp_url: str
    widget_script_url: str = Field(
        description="The chat widget's script, for "
        '`<script src="…" data-publication="<slug>" async></script>` on a listed origin.'
    )
    published_by: str
    created_at: datetime
    unpublished_at: datetime | None


class KeyIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)


class KeyOut(Schema):
    id: int
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="Send as `Authorization: Bearer <key>`. Shown only now.")


def publication_out(publication: Publication) -> dict[str, Any]:
    fields = ("id", "team_id", "version", "slug", "widget_origins", "created_at", "unpublished_at")
    return {
        **{f: getattr(publication, f) for f in fields},
        "rate_limit": publication.rate,
        "live": publication.is_live,
        "runs_url": absolute(reverse("publication-runs", args=[publication.slug])),
        "mcp_url": absolute("/mcp/"),
        "widget_script_url": absolute(static("js/widget.js")),
        "published_by": publication.published_by.get_username(),
    }


def key_out(key: PublicationKey) -> dict[str, Any]:
    fields = ("id", "name", "hint", "created_at", "last_used_at", "revoked_at")
    return {f: getattr(key, f) for f in fields}


def _team(request: HttpRequest, team_id: int) -> Team:
    return operations.get(
        Team.objects.all(), request, pk=team_id, not_found=f"Team {team_id} was not found."
    )


def _publication(request: HttpRequest, publication_id: int) -> Publication:
    return access.get_object(
        Publication.objects.select_related("published_by"),
        request.auth,
        operations.needed(request),
        path="team__workspace",
        not_found=f"Publication {publication_id} was not found.",
        pk=publication_id,
    )


@router.post(
    "/teams/{team_id}/publish",
    response={201: PublicationOut, 404: ErrorOut, 422: ProblemsOut},
)
@requires("publication.manage")
def publish(request: HttpRequest, team_id: int, payload: PublishIn) -> Any:
    """Publish a version of the team under a slug (again under the same slug: move it to
    this version). Runs it starts belong to you."""
    team = _team(request, team_id)
    version = team.versions.filter(number=payload.version).first()
    if version is None:
        return refused("version", f"The team has no version {payload.version}.")
    if not version.is_valid:
        return refused(
            "version", f"Version {version.number} has problems; fix them and publish a valid one."
        )
    try:
        publication = actions.do_publish(
            team,
            version.number,
            payload.slug,
            payload.rate_limit,
            request.auth,
            payload.widget_origins,
        )
    except actions.SlugTaken as exc:
        return refused("slug", str(exc))
    return Status(201, publication_out(publication))


@router.get("/teams/{team_id}/publications", response={200: list[PublicationOut], 404: ErrorOut})
@requires("publication.view")
def list_publications(request: HttpRequest, team_id: int) -> Any:
    team = _team(request, team_id)
    return [publication_out(p) for p in team.publications.select_related("published_by")]


@router.delete("/publications/{publication_id}", response={204: None, 404: ErrorOut})
@requires("publication.manage")
def unpublish(request: HttpRequest, publication_id: int) -> Any:
    """Take the publication down: its keys are revoked at once (publishing it again brings
    none back); its runs stay."""
    actions.do_unpublish(_publication(request, publication_id))
    return Status(204, None)


@router.get("/publications/{publication_id}/keys", response={200: list[KeyOut], 404: ErrorOut})
@requires("publication.view")
def list_keys(request: HttpRequest, publication_id: int) -> Any:
    return [key_out(k) for k in _publication(request, publication_id).keys.all()]


@router.post(
    "/publications/{publication_id}/keys",
    response={201: KeyCreated, 404: ErrorOut, 422: ProblemsOut},
)
@requires("publication.manage")
def issue_key(request: HttpRequest, publication_id: int, payload: KeyIn) -> Any:
    publication = _publication(request, publication_id)
    try:
        row, key = actions.do_issue_key(publication, payload.name, request.auth)
    except actions.TooManyKeys as exc:
        return refused("name", str(exc))
    return Status(201, {**key_out(row), "key": key})


@router.delete("/publications/{publication_id}/keys/{key_id}", response={204: None, 404: ErrorOut})
@requires("publication.manage")
def revoke_key(request: HttpRequest, publication_id: int, key_id: int) -> Any:
    publication = _publication(request, publication_id)
    key = publication.keys.filter(pk=key_id).first()
    if key is None:
        return Status(404, {"detail": f"Key {key_id} was not found.", "problems": []})
    key.revoke()
    return Status(204, None)
