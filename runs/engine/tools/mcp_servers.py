"""The operator's registry of stdio MCP servers: the only programs a team can have started.

A team spec never says what program to run: it names a server registered here, and the worker
starts that server's command with that server's arguments and only the environment variables
the operator listed for it, read from the worker's own environment. The registry is read once,
from the ``MCP_SERVERS`` setting (JSON, or a file holding it), and nonsense stops start-up:

    {"github": {"command": "/usr/local/bin/github-mcp", "args": ["stdio"],
                "env": ["GITHUB_TOKEN"], "description": "Issues and pull requests"}}

Only pydantic here, so settings can load it without importing the MCP SDK.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

ServerName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", max_length=64)
]
VariableName = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)
]


class RegisteredServer(BaseModel):
    """One stdio MCP server the operator allows teams to use, by its registry name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    command: str = Field(min_length=1, description="The program; 'python' means the worker's.")
    args: tuple[str, ...] = ()
    env: tuple[VariableName, ...] = Field(
        (), description="Worker environment variables the server receives, by name."
    )
    description: str = Field("", max_length=500, description="What teams use it for.")


_REGISTRY = TypeAdapter(dict[ServerName, RegisteredServer])


def parse_registry(document: Any) -> dict[str, RegisteredServer]:
    """The registry from its JSON form; ``ValueError`` that says what is wrong and where."""
    try:
        return _REGISTRY.validate_python(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "".join(f"[{part!r}]" for part in first["loc"])
        raise ValueError(
            f"MCP_SERVERS{where}: {first['msg']}. It must be a JSON object of server names "
            '(letters, digits, \'-\', \'_\') to {"command", "args", "env", "description"}.'
        ) from exc


def load_registry(value: str = "", path: str = "") -> dict[str, RegisteredServer]:
    """Read the registry from ``value`` (JSON) or the file at ``path``; empty when neither."""
    if value and path:
        raise ValueError("Set MCP_SERVERS or MCP_SERVERS_FILE, not both.")
    text = value
    if path:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"MCP_SERVERS_FILE {path!r} cannot be read: {exc.strerror}.") from exc
    if not text.strip():
        return {}
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"MCP_SERVERS is not valid JSON: {exc.msg} at position {exc.pos}."
        ) from exc
    return parse_registry(document)


def as_setting(registry: dict[str, RegisteredServer]) -> dict[str, dict[str, Any]]:
    """The plain form tools receive in their settings (JSON-safe, like every tool setting)."""
    return {name: server.model_dump(mode="json") for name, server in registry.items()}
