"""Shapes of the teams API (see the API contract): what goes in and what comes out."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import AfterValidator, Field

from .spec import Pattern
from .validation import Problem


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
    spec: dict[str, Any] = Field(description="The TeamSpec document of the latest version.")
    problems: list[Problem]


class TeamCreate(Schema):
    name: Text = Field(min_length=1, max_length=200)
    description: Text = Field("", max_length=5_000)
    spec: dict[str, Any] | None = Field(
        None, description="A TeamSpec document; without one the team starts with one agent."
    )
    pattern: Pattern = Field("supervisor", description="The starter team's pattern, if no spec.")
    draft: bool = Field(False, description="Save even with errors (is_valid is then false).")


class TeamUpdate(Schema):
    spec: dict[str, Any]
    message: Text = Field("", max_length=500, description="What changed, for the history.")
    draft: bool = False


class VersionSummary(Schema):
    number: int
    is_valid: bool
    message: str
    created_by: str | None
    created_at: datetime


class VersionDetail(VersionSummary):
    spec: dict[str, Any]
    problems: list[Problem]


class ValidationResult(Schema):
    valid: bool
    problems: list[Problem]


class ModelOut(Schema):
    name: str
    provider: str
    model: str
    simulated: bool


class ErrorOut(Schema):
    detail: str
    problems: list[Problem] = []
