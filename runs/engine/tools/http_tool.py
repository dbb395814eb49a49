"""Custom HTTP tools: a user describes an HTTP endpoint, and agents call it like a built-in.

A definition (what the API and the UI store) has a name, a description, a JSON Schema for the
arguments, a URL that may contain ``{argument}`` placeholders, a method and headers. A header
value ``env:VAR_NAME`` is read from the worker's environment at call time, so secrets never sit
in the database or in an event. Arguments not used in the URL go in the query string (GET) or
the JSON body (POST). Every call goes through the network guard.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterable
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, field_validator

from ..interfaces import ToolContext
from .fetch import REQUEST_TIMEOUT_S, guarded_fetch
from .registry import Registry, Tool, ToolFailure
from .schema_args import SchemaArgs, args_model

TOOL_NAME = r"^[a-z][a-z0-9_]{0,63}$"
ENV_PREFIX = "env:"
# Headers that carry credentials must name an environment variable, so no secret is ever
# stored with the definition (and so in the database, the API or an export).
_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.I)


class HttpToolDefinition(BaseModel):
    name: str = Field(pattern=TOOL_NAME, description="lower_snake_case, unique per user.")
    description: str = Field(min_length=1, max_length=1000)
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}},
        description="JSON Schema of the arguments.",
    )
    url: str = Field(max_length=2000, pattern=r"^https?://")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict, max_length=30)

    @field_validator("parameters")
    @classmethod
    def _valid_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        args_model("check", schema)  # raises with the schema's first problem
        return schema

    @field_validator("headers")
    @classmethod
    def _secrets_from_environment(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if _SECRET_HEADER.search(name) and not value.startswith(ENV_PREFIX):
                raise ValueError(
                    f"The header {name} carries a secret: give env:VARIABLE_NAME, the "
                    "environment variable on the workers that holds it, not the value itself."
                )
            if value.startswith(ENV_PREFIX) and not re.fullmatch(r"[A-Z_][A-Z0-9_]*", value[4:]):
                raise ValueError(f"{value!r} does not name an environment variable (A-Z, 0-9, _).")
        return headers

    def placeholders(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.url) if f}


def http_tool(definition: HttpToolDefinition) -> Tool:
    """A registry ``Tool`` that calls the endpoint ``definition`` describes."""

    async def call(args: SchemaArgs, context: ToolContext) -> dict[str, Any]:
        values = args.values()
        url = _expand(definition, values)
        rest = {k: v for k, v in values.items() if k not in definition.placeholders()}
        headers = {name: _header_value(name, value) for name, value in definition.headers.items()}
        sends_body = definition.method != "GET" and definition.method != "DELETE"
        return await guarded_fetch(
            definition.method, url, context.settings, headers=headers,
            json_body=rest if sends_body else None, params=None if sends_body else rest,
        )  # fmt: skip

    return Tool(
        name=definition.name,
        description=definition.description,
        args_model=args_model(definition.name, definition.parameters),
        function=call,
        timeout_s=REQUEST_TIMEOUT_S + 5,
        source="http",
    )


def http_tools_registry(definitions: Iterable[HttpToolDefinition]) -> Registry:
    return Registry(http_tool(d) for d in definitions)


def _expand(definition: HttpToolDefinition, values: dict[str, Any]) -> str:
    missing = definition.placeholders() - values.keys()
    if missing:
        raise ToolFailure(f"The URL needs {', '.join(sorted(missing))}; pass them as arguments.")
    return re.sub(r"\{(\w+)\}", lambda m: quote(str(values[m.group(1)]), safe=""), definition.url)


def _header_value(name: str, value: str) -> str:
    if not value.startswith(ENV_PREFIX):
        return value
    variable = value.removeprefix(ENV_PREFIX)
    secret = os.environ.get(variable)
    if secret is None:
        raise ToolFailure(
            f"The header {name} needs the environment variable {variable}, which is not set on "
            "the worker; ask the operator to set it."
        )
    return secret
