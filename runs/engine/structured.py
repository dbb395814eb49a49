"""Structured output: an agent with an output schema must answer with a JSON object that
satisfies it. Model output is untrusted text; it is parsed and validated here, and the problems
are written so the model can fix them in a repair turn."""

from __future__ import annotations

import json
from typing import Any

from .json_schema import errors

#: How deeply a structured answer may nest (as a team document may): deeper, it is refused
#: as a schema problem is, before anything stores, serialises or shows it. A model told to
#: by its input wrote 300 levels, which the run's API answer could not serialise (a 500 for
#: every read of the run), or 1,000, which Python's parser cannot read (the run crashed).
MAX_ANSWER_DEPTH = 64


def parse_output(text: str | None, schema: dict[str, Any]) -> tuple[Any, list[str]]:
    """The validated value, or the problems a repair turn shows to the model."""
    raw = _strip_fence(text or "")
    too_deep = f"The answer is nested more than {MAX_ANSWER_DEPTH} levels deep; flatten it."
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [f"The answer is not valid JSON: {exc.msg} at position {exc.pos}."]
    except RecursionError:
        return None, [too_deep]
    if depth_over(value, MAX_ANSWER_DEPTH):
        return None, [too_deep]
    return value, schema_problems(value, schema)


def depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels (iterative: any depth is safe)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


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
