"""The ``judge`` scorer: a model of the workspace reads the rubric, the input, the expected
output and the output, and answers ``{score, reason}`` through structured output. The
offline model answers deterministically (a score of 0 and a reason that says it is
simulated), so an experiment with a judge runs, and is tested, without a network. The
judge's model call costs like any other: its tokens and cost come back with the verdict, and
the experiment counts them in the item's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from runs.engine.interfaces import ChatMessage, ModelRequest, Usage
from runs.execution import run_loop
from runs.wiring import model_registries

from .scorers import Judge, Score

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "reason": {"type": "string"},
    },
    "required": ["score", "reason"],
    "additionalProperties": False,
}
INSTRUCTIONS = (
    "You grade the output of an AI team against a rubric. Answer with a JSON object: "
    '"score", a number from 0 (fails the rubric) to 1 (meets it fully), and "reason", one '
    "or two sentences saying why. Judge only by the rubric."
)
JUDGE_TIMEOUT_S = 120.0


class Verdict(BaseModel):
    score: float = Field(..., ge=0, le=1)
    reason: str = Field(..., max_length=4000)


class UnknownModel(ValueError):
    pass


@dataclass(frozen=True)
class Judged:
    """A verdict and what asking for it cost."""

    score: Score
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: Decimal = Decimal(0)

    @classmethod
    def costing(cls, score: Score, usage: Usage, usd: float) -> Judged:
        return cls(score, usage.input_tokens, usage.output_tokens, Decimal(str(round(usd, 6))))

    def to_dict(self) -> dict[str, Any]:
        return self.score.to_dict() | {
            "cost_usd": float(self.cost_usd),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


def check_models(specs: list[Any], workspace: Any) -> None:
    """Every judge names a model the workspace has (``UnknownModel`` otherwise)."""
    registry = model_registries([workspace.pk])[workspace.pk]
    for spec in specs:
        if spec.kind == "judge":
            try:
                registry.get(spec.model)
            except KeyError as exc:
                raise UnknownModel(f"Judge {spec.label}: {exc.args[0]}") from None


def judge(spec: Judge, workspace: Any, task_input: Any, output: Any, expected: Any) -> Judged:
    """The judge's verdict and its cost; a model that fails or answers out of shape scores 0,
    saying so (an answer out of shape still cost what it cost)."""
    model = model_registries([workspace.pk])[workspace.pk].get(spec.model)
    case = {"rubric": spec.rubric, "input": task_input, "expected": expected, "output": output}
    request = ModelRequest(
        model=model.model,
        messages=(
            ChatMessage("system", INSTRUCTIONS),
            ChatMessage("user", json.dumps(case, ensure_ascii=False, default=str)),
        ),
        output_schema=VERDICT_SCHEMA,
        temperature=0,
        timeout_s=JUDGE_TIMEOUT_S,
    )
    try:
        response = run_loop.submit(model.provider.complete(request)).result(JUDGE_TIMEOUT_S + 5)
    except Exception as exc:  # a judge that cannot answer is a result, not a crash
        return Judged(Score(0.0, f"The judge {spec.model} could not answer: {exc}"))
    usd = model.cost_usd(response.usage)
    try:
        verdict = Verdict.model_validate_json(response.content or "")
    except ValidationError:
        text = (response.content or "")[:200]
        return Judged.costing(
            Score(0.0, f"The judge answered out of shape: {text}"), response.usage, usd
        )
    return Judged.costing(Score(verdict.score, verdict.reason), response.usage, usd)
