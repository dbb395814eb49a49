"""Shapes of the teams API (see the API contract): what goes in and what comes out."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field, WithJsonSchema

from workspaces.operations import InWorkspaceBody

from .spec import Pattern, TeamSpec
from .validation import Problem

_COMPONENT = "#/components/schemas/{model}"


def teamspec_components() -> dict[str, Any]:
    """TeamSpec and its parts as OpenAPI components, so clients can generate types from them.

    Specs travel as plain JSON objects (parsed by ``teams.spec.parse`` in the view, so every
    problem is reported in one shape); this documents what those objects are.
    """
    schema = TeamSpec.model_json_schema(ref_template=_COMPONENT)
    parts: dict[str, Any] = schema.pop("$defs", {})
    # A team can nest teams, so pydantic puts TeamSpec itself among the parts and answers with
    # a bare reference to it: the part is the definition, the reference would point at itself.
    return {"TeamSpec": schema, **parts}


TEAMSPEC_REF = {"$ref": _COMPONENT.format(model="TeamSpec")}
#: Marks a JSON object that is a TeamSpec document; ``link_teamspec`` turns the mark into a
#: reference to the TeamSpec component once the OpenAPI document exists (pydantic itself
#: refuses references to schemas it did not generate).
_MARK = "x-teamspec"
TeamSpecDocument = Annotated[
    dict[str, Any], WithJsonSchema({"type": "object", _MARK: True, "title": "TeamSpec"})
]


def link_teamspec(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with TeamSpec marks replaced by references and the TeamSpec
    components added."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.pop(_MARK, False):
                node.clear()
                node.update(TEAMSPEC_REF)
                continue
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    document.setdefault("components", {}).setdefault("schemas", {}).update(teamspec_components())
    return document


def _no_nul(text: str) -> str:
    if "\x00" in text:
        raise ValueError("Text may not contain the NUL character (\\u0000).")
    return text


Text = Annotated[str, AfterValidator(_no_nul)]


class TeamSummary(Schema):
    id: int
    name: str
    description: str
    pattern: str
    version: int
    is_valid: bool
    created_at: datetime
    updated_at: datetime


class TeamDetail(TeamSummary):
    spec: TeamSpecDocument = Field(description="The TeamSpec document of the latest version.")
    problems: list[Problem]


class TeamCreate(Schema, InWorkspaceBody):
    name: Text = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=5_000)
    spec: TeamSpecDocument | None = Field(
        None, description="A TeamSpec document; without one the team starts with one agent."
    )
    pattern: Pattern = Field("supervisor", description="The starter team's pattern, if no spec.")
    draft: bool = Field(False, description="Save even with errors (is_valid is then false).")


class TeamUpdate(Schema):
    spec: TeamSpecDocument
    message: Text = Field("", max_length=500, description="What changed, for the history.")
    draft: bool = False


class VersionSummary(Schema):
    number: int
    is_valid: bool
    message: str
    created_by: str | None
    created_at: datetime


class VersionDetail(VersionSummary):
    spec: TeamSpecDocument
    problems: list[Problem]


class ValidationResult(Schema):
    valid: bool
    problems: list[Problem]


class ErrorOut(Schema):
    detail: str
    problems: list[Problem] = []
