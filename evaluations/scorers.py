"""Scorers: each gives an item's output a score from 0 to 1 with the reason, in words.

Plain functions of (output, expected) with no Django, so they can be read and tested alone.
The ``judge`` scorer asks a model and lives in ``evaluations.judging``; everything here is
deterministic. Regular expressions are RE2's (linear time, as everywhere in the product).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, field_validator

from runs.engine.json_schema import SchemaError, check_schema, compiled, errors

#: What a reason may hold (characters). A reason may quote the output, which a model wrote: the
#: JSON Schema scorer's quoted all of it (``'aaa…' does not match``), once per scorer, into every
#: item's stored scores and onto every page that lists them.
MAX_REASON_CHARS = 1000


@dataclass(frozen=True)
class Score:
    score: float
    reason: str

    def to_dict(self) -> dict[str, Any]:
        reason = self.reason
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[: MAX_REASON_CHARS - 1] + "…"
        return {"score": round(self.score, 6), "reason": reason}


class _Scorer(BaseModel):
    name: str | None = Field(
        None, max_length=60, description="What the results call it; its kind by default."
    )

    @property
    def label(self) -> str:
        return self.name or self.kind  # type: ignore[attr-defined]


class Exact(_Scorer):
    kind: Literal["exact"]


class JsonEqual(_Scorer):
    kind: Literal["json_equal"]
    fields: list[str] | None = Field(
        None, description="Compare only these top-level fields; all of them by default."
    )
    tolerance: float = Field(0.0, ge=0, description="Numbers this close count as equal.")


class JsonSchema(_Scorer):
    kind: Literal["json_schema"]
    schema_: dict[str, Any] = Field(..., alias="schema")

    @field_validator("schema_")
    @classmethod
    def _valid(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"The schema is not valid: {exc.message}") from exc
        return value


class Contains(_Scorer):
    kind: Literal["contains"]
    text: str | None = Field(
        None, description="The text the output must contain; the expected output by default."
    )
    case_sensitive: bool = False


class Regex(_Scorer):
    kind: Literal["regex"]
    pattern: str = Field(..., max_length=2000)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled(value)
        except Exception as exc:
            raise ValueError(f"RE2 cannot compile the pattern: {exc}") from exc
        return value


class Numeric(_Scorer):
    kind: Literal["numeric"]
    field: str | None = Field(None, description="Read the number from this field of the output.")
    tolerance: float = Field(0.0, ge=0, description="Absolute difference still counted as right.")


class Judge(_Scorer):
    kind: Literal["judge"]
    rubric: str = Field(..., min_length=1, max_length=20000)
    model: str = Field(..., description="The name of a model configured in the workspace.")


ScorerSpec = Annotated[
    Exact | JsonEqual | JsonSchema | Contains | Regex | Numeric | Judge,
    Field(discriminator="kind"),
]
SPECS: TypeAdapter[list[ScorerSpec]] = TypeAdapter(list[ScorerSpec])


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1 and isinstance(next(iter(value.values())), str):
        return next(iter(value.values()))  # {"answer": "..."}: the text itself
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def as_json(value: Any) -> Any:
    """A string that holds JSON, parsed; anything else as it is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _equal(a: Any, b: Any, tolerance: float, at: str) -> str | None:
    """Where ``a`` and ``b`` first differ (a JSON path), or None when equal."""
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool | type(None)):
        if isinstance(b, bool):
            return at or "the value"
        return None if math.isclose(a, b, rel_tol=0, abs_tol=tolerance) else at or "the value"
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if key not in a or key not in b:
                return f"{at}.{key}" if at else key
            if (
                where := _equal(a[key], b[key], tolerance, f"{at}.{key}" if at else key)
            ) is not None:
                return where
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{at or 'the list'} (length {len(a)} against {len(b)})"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if (where := _equal(x, y, tolerance, f"{at}[{i}]")) is not None:
                return where
        return None
    return None if a == b and type(a) is type(b) else at or "the value"


def exact(spec: Exact, output: Any, expected: Any) -> Score:
    if expected is None:
        return Score(0.0, "The item has no expected output to compare with.")
    same = as_text(output).strip() == as_text(expected).strip()
    return (
        Score(1.0, "The output is the expected one.")
        if same
        else Score(0.0, "The output differs from the expected one.")
    )


def json_equal(spec: JsonEqual, output: Any, expected: Any) -> Score:
    got, want = as_json(output), as_json(expected)
    if want is None:
        return Score(0.0, "The item has no expected output to compare with.")
    if spec.fields is not None:
        if not isinstance(got, dict) or not isinstance(want, dict):
            return Score(0.0, "The output is not a JSON object, so it has no fields to compare.")
        got = {f: got.get(f) for f in spec.fields}
        want = {f: want.get(f) for f in spec.fields}
    where = _equal(got, want, spec.tolerance, "")
    if where is None:
        return Score(1.0, "The output equals the expected JSON.")
    return Score(0.0, f"The output differs from the expected JSON at {where}.")


def json_schema(spec: JsonSchema, output: Any, expected: Any) -> Score:
    found = errors(spec.schema_, as_json(output))
    if not found:
        return Score(1.0, "The output fits the schema.")
    first = found[0]
    where = "/".join(str(p) for p in first.absolute_path) or "the top level"
    return Score(0.0, f"The output misses the schema at {where}: {first.message}")


def contains(spec: Contains, output: Any, expected: Any) -> Score:
    wanted = (
        spec.text if spec.text is not None else (None if expected is None else as_text(expected))
    )
    if wanted is None:
        return Score(
            0.0, "No text to look for: give the scorer a text or the item an expected output."
        )
    text = as_text(output)
    if not spec.case_sensitive:
        text, wanted = text.lower(), wanted.lower()
    if wanted in text:
        return Score(1.0, f"The output contains {wanted[:80]!r}.")
    return Score(0.0, f"The output does not contain {wanted[:80]!r}.")


def regex(spec: Regex, output: Any, expected: Any) -> Score:
    if compiled(spec.pattern).search(as_text(output)):
        return Score(1.0, f"The output matches /{spec.pattern}/.")
    return Score(0.0, f"The output does not match /{spec.pattern}/.")


def _number(value: Any, field: str | None) -> float | None:
    value = as_json(value)
    if field is not None:
        value = value.get(field) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def numeric(spec: Numeric, output: Any, expected: Any) -> Score:
    got, want = _number(output, spec.field), _number(expected, spec.field)
    if want is None:
        return Score(0.0, "The expected output holds no number.")
    if got is None:
        return Score(0.0, "The output holds no number.")
    if abs(got - want) <= spec.tolerance:
        return Score(1.0, f"{got:g} is within {spec.tolerance:g} of {want:g}.")
    return Score(
        0.0, f"{got:g} is {abs(got - want):g} away from {want:g} (tolerance {spec.tolerance:g})."
    )


DETERMINISTIC: dict[str, Callable[[Any, Any, Any], Score]] = {
    "exact": exact,
    "json_equal": json_equal,
    "json_schema": json_schema,
    "contains": contains,
    "regex": regex,
    "numeric": numeric,
}


def score(spec: Any, output: Any, expected: Any) -> Score:
    """``spec``'s score of ``output`` (a deterministic scorer; ``judge`` is scored apart)."""
    return DETERMINISTIC[spec.kind](spec, output, expected)
