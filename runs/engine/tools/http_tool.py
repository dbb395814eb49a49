"""Custom HTTP tools: a user describes an HTTP endpoint, and agents call it like a built-in.

A definition (what the API and the UI store) has a name, a description, a JSON Schema for the
arguments, a URL that may contain ``{argument}`` placeholders, a method and headers. A header
value ``secret:NAME`` refers to a secret the tool's owner stored: the run is given the owner's
secrets (``BoundSecret``: the value and the hosts it may be sent to) and the value is put in
only for a request, and every redirect of it, to one of those hosts, so secrets never sit in a
definition, an event or an error. Arguments not used in the URL go in the query string (GET)
or the JSON body (POST). Every call goes through the network guard.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, Field, field_validator

from ..interfaces import ToolContext
from .fetch import REQUEST_TIMEOUT_S, guarded_fetch
from .registry import Registry, Tool, ToolFailure
from .schema_args import SchemaArgs, args_model

TOOL_NAME = r"^[a-z][a-z0-9_]{0,63}$"
SECRET_PREFIX = "secret:"  # noqa: S105 - a prefix, not a password
SECRET_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"  # noqa: S105
# Headers that carry credentials must refer to a stored secret, so no secret is ever stored
# with the definition (and so in the database, the API or an export).
_SECRET_HEADER = re.compile(r"authorization|cookie|token|secret|api[-_]?key|password", re.I)


@dataclass(frozen=True, repr=False)
class BoundSecret:
    """A stored secret's value and the hosts it may be sent to (repr never shows the value)."""

    value: str
    hosts: frozenset[str]

    def __repr__(self) -> str:
        return f"BoundSecret(hosts={sorted(self.hosts)})"


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
    def _secrets_by_reference(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if value.startswith("env:"):
                raise ValueError(
                    f"The header {name} names an environment variable; tools cannot read the "
                    "workers' environment. Store the value as a secret (Settings, Secrets) and "
                    "write secret:NAME."
                )
            if _SECRET_HEADER.search(name) and not value.startswith(SECRET_PREFIX):
                raise ValueError(
                    f"The header {name} carries a secret: store it as a secret (Settings, "
                    "Secrets) bound to the tool's host and write secret:NAME, not the value."
                )
            if value.startswith(SECRET_PREFIX) and not re.fullmatch(SECRET_NAME, value[7:]):
                raise ValueError(f"{value!r} does not name a secret (letters, digits, _ . -).")
        return headers

    def placeholders(self) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(self.url) if f}

    def secret_names(self) -> set[str]:
        return {v.removeprefix(SECRET_PREFIX) for v in self.headers.values() if _is_secret(v)}


def http_tool(
    definition: HttpToolDefinition, secrets: Mapping[str, BoundSecret] | None = None
) -> Tool:
    """A registry ``Tool`` that calls the endpoint ``definition`` describes, with the owner's
    ``secrets`` (by name) for its ``secret:NAME`` headers."""

    async def call(args: SchemaArgs, context: ToolContext) -> dict[str, Any]:
        values = args.values()
        url = _expand(definition, values)
        rest = {k: v for k, v in values.items() if k not in definition.placeholders()}
        used = [_secret(definition, name, secrets or {}) for name in definition.secret_names()]
        headers = {
            name: _header_value(value, secrets or {}) for name, value in definition.headers.items()
        }
        settings = context.settings
        if used:
            settings = {**settings, "http_allowed_hosts": _hosts_for(used, url, settings)}
        sends_body = definition.method != "GET" and definition.method != "DELETE"
        return await guarded_fetch(
            definition.method, url, settings, headers=headers,
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


def http_tools_registry(
    definitions: Iterable[HttpToolDefinition], secrets: Mapping[str, BoundSecret] | None = None
) -> Registry:
    return Registry(http_tool(d, secrets) for d in definitions)


def _expand(definition: HttpToolDefinition, values: dict[str, Any]) -> str:
    missing = definition.placeholders() - values.keys()
    if missing:
        raise ToolFailure(f"The URL needs {', '.join(sorted(missing))}; pass them as arguments.")
    return re.sub(r"\{(\w+)\}", lambda m: quote(str(values[m.group(1)]), safe=""), definition.url)


def _is_secret(value: str) -> bool:
    return value.startswith(SECRET_PREFIX)


def _secret(
    definition: HttpToolDefinition, name: str, secrets: Mapping[str, BoundSecret]
) -> BoundSecret:
    secret = secrets.get(name)
    if secret is None:
        raise ToolFailure(
            f"The tool {definition.name} needs the secret {name}, which its owner has not "
            "stored; add it in Settings, Secrets."
        )
    return secret


def _hosts_for(used: list[BoundSecret], url: str, settings: dict[str, Any]) -> list[str]:
    """The hosts this request (and each redirect) may reach: those every secret it carries is
    bound to (and the team's own allow-list has). Never empty: ``guarded_fetch`` checks every
    hop against it, and an empty list would mean no restriction."""
    hosts = frozenset.intersection(*(secret.hosts for secret in used))
    earlier = [entry.lower() for entry in settings.get("http_allowed_hosts") or ()]
    if earlier:
        hosts = frozenset(
            h for h in hosts
            if any(h == e or (e.startswith("*.") and h.endswith(e[1:])) for e in earlier)
        )  # fmt: skip
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host not in hosts:
        raise ToolFailure(
            f"Refused to send a secret to {host or 'that URL'}: the secrets this tool uses may "
            f"only be sent to {', '.join(sorted(hosts)) or 'no host this team may call'}."
        )
    return sorted(hosts)


def _header_value(value: str, secrets: Mapping[str, BoundSecret]) -> str:
    if not _is_secret(value):
        return value
    return secrets[value.removeprefix(SECRET_PREFIX)].value
