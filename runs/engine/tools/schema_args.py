"""Argument models made at run time from a JSON Schema (custom HTTP tools, MCP tools).

The registry wants a pydantic model per tool; for a tool defined by data, the model carries the
given schema as-is (so the LLM sees exactly what the author wrote) and validates with
``jsonschema`` (with RE2 for its patterns, see ``json_schema``), raising the error pydantic's
caller already reports to the agent.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from ..json_schema import SchemaError, check_schema, errors


class SchemaArgs(BaseModel):
    """Base of the generated models; ``values()`` gives the validated arguments."""

    model_config = ConfigDict(extra="allow")

    def values(self) -> dict[str, Any]:
        return dict(self.__pydantic_extra__ or {})


def args_model(name: str, schema: dict[str, Any] | None) -> type[SchemaArgs]:
    """A model named after the tool that validates arguments against ``schema``."""
    schema = {"type": "object", **(schema or {"properties": {}})}
    try:
        check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "the top level"
        raise ValueError(
            f"The argument schema is not valid JSON Schema at {where}: {exc.message}"
        ) from exc

    class Args(SchemaArgs):
        @model_validator(mode="before")
        @classmethod
        def _validate(cls, data: Any) -> Any:
            found = sorted(errors(schema, data), key=lambda e: list(e.path))
            if found:
                where = ".".join(str(p) for p in found[0].path)
                message = f"{where}: {found[0].message}" if where else found[0].message
                raise PydanticCustomError("json_schema", message)
            return data

        @classmethod
        def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
            return dict(schema)  # type: ignore[arg-type]  # narrowed above

    Args.__name__ = Args.__qualname__ = f"{name}Args"
    return Args
