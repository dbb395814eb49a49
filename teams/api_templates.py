"""The template gallery over the API: list the templates, make a team from one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from .models import Team, TeamTemplate

router = Router(tags=["templates"])


class TemplateOut(Schema):
    slug: str
    name: str
    description: str
    pattern: str
    about: str
    spec: dict[str, Any]
    sample_input: dict[str, Any]


class InstantiateIn(Schema):
    name: str | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="Name of the new team; the template's by default.",
    )


class TeamOut(Schema):
    id: int
    name: str
    description: str
    pattern: str
    version: int
    is_valid: bool
    spec: dict[str, Any]


@router.get("/templates", response=list[TemplateOut])
def list_templates(request: HttpRequest) -> Any:
    """The gallery: every installed template with its spec, sample input and description."""
    return TeamTemplate.objects.all()


@router.post("/templates/{slug}/instantiate", response={201: TeamOut})
def instantiate_template(request: HttpRequest, slug: str, body: InstantiateIn | None = None) -> Any:
    """Make a new team of your own from the template; later edits never touch the template."""
    template = TeamTemplate.objects.filter(slug=slug).first()
    if template is None:
        raise HttpError(404, f"There is no template {slug!r}; GET /api/templates lists them.")
    team: Team = template.instantiate(request.user, name=body.name if body else None)
    return 201, team
