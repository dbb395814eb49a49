"""Structured output: an agent with an output schema must answer with a JSON object that
satisfies it. Model output is untrusted text; it is parsed and validated here, and the problems
are written so the model can fix them in a repair turn."""

from __future__ import annotations

import json
from typing import Any

from .json_schema import errors


def parse_output(text: str | None, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """The validated value, or the problems a repair turn shows to the model."""
    raw = _strip_fence(text or "")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [f"The answer is not valid JSON: {exc.msg} at position {exc.pos}."]
    return value, schema_problems(value, schema)


def schema_problems(value: Any, schema: dict[str, Any]) -> list[str]:
    problems = []
    for error in sorted(errors(schema, value), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "(the whole answer)"
        problems.append(f"{where}: {error.message}")
    return problems


def repair_prompt(problems: list[str], schema: dict[str, Any]) -> str:
    listed = "\n".join(f"- {p}" for p in problems)
    return (
        "Your answer does not satisfy the required output schema:\n"
        f"{listed}\n"
        "Answer again with only a JSON object that satisfies this schema:\n"
        f"{json.dumps(schema)}"
    )


def as_text(value: Any) -> str:
    """How an agent's input or output is shown to a model: text as is, structures as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def _strip_fence(text: str) -> str:
    # Models often wrap JSON in a markdown fence even when told not to.
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    return stripped.strip()
