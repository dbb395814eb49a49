"""The template gallery over the API: list the templates, make a team from one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import ValidationError

from workspaces import operations
from workspaces.operations import InWorkspaceBody, requires

from .api import read_json, team_detail
from .models import TeamTemplate
from .schemas import ErrorOut, TeamDetail, Text
from .services import team_from_template

router = Router(tags=["templates"])


class TemplateOut(Schema):
    slug: str
    name: str
    description: str
    pattern: str
    about: str = Field(description="What the template does and how to adapt it, as Markdown.")
    spec: dict[str, Any] = Field(description="The template's TeamSpec document.")
    sample_input: dict[str, Any] = Field(description="A run input the template works on.")


class InstantiateIn(Schema, InWorkspaceBody):
    name: Text | None = Field(
        None,
        min_length=1,
        max_length=200,
        description="The new team's name; the template's if absent.",
    )


@router.get("/templates", response=list[TemplateOut])
@requires(None)
def list_templates(request: HttpRequest) -> Any:
    """The gallery: every installed template with its spec, sample input and description."""
    return TeamTemplate.objects.all()


_OPTIONAL_BODY = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": InstantiateIn.model_json_schema()}},
    }
}


@router.post(
    "/templates/{slug}/instantiate",
    response={201: TeamDetail, 422: ErrorOut},
    openapi_extra=_OPTIONAL_BODY,
)
@requires("team.edit")
def instantiate_template(request: HttpRequest, slug: str) -> Any:
    """Make a new team from the template in the body's ``workspace`` (your personal one by
    default); later edits never touch the template."""
    template = TeamTemplate.objects.filter(slug=slug).first()
    if template is None:
        raise HttpError(404, f"There is no template {slug!r}; GET /api/templates lists them.")
    body = _body(request)
    place = operations.workspace(request, body.workspace)
    team, problems = team_from_template(template, request.auth, name=body.name, workspace=place)
    return Status(201, team_detail(team, problems))


def _body(request: HttpRequest) -> InstantiateIn:
    """The optional body: nothing at all, or ``{"name": ..., "workspace": ...}``."""
    if not request.body.strip():  # read first: Django parses forms from the cached body
        return InstantiateIn()
    if request.content_type != "application/json" and not request.POST:
        return InstantiateIn()  # an empty form, as HTML forms and some clients send
    try:
        return InstantiateIn.model_validate(read_json(request))
    except ValidationError as exc:
        raise NinjaValidationError([dict(e) for e in exc.errors(include_url=False)]) from exc
