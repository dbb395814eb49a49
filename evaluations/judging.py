"""The ``judge`` scorer: a model of the workspace reads the rubric, the input, the expected
output and the output, and answers ``{score, reason}`` through structured output. The
offline model answers deterministically (a score of 0 and a reason that says it is
simulated), so an experiment with a judge runs, and is tested, without a network. The
judge's model call costs like any other: its tokens and cost come back with the verdict, and
the experiment counts them in the item's.

A judge calls its model through the models the item's run had (``models_for``): when the
experiment records or replays a cassette, the judge's request is recorded and replayed with
the run's, under the same key, so re-scoring a replayed experiment costs nothing too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from runs.engine.activities import estimated_tokens
from runs.engine.interfaces import (
    ChatMessage,
    ModelRegistry,
    ModelRequest,
    ResolvedModel,
    Usage,
)
from runs.execution import run_loop
from runs.models import Run
from runs.wiring import model_registries, models_of

from .cassettes import Missing
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
#: Judge calls made at once by one step of an experiment (``judge_many``).
JUDGES_AT_ONCE = 8


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


def models_for(workspace_id: int, runs: Sequence[Run]) -> dict[Any, ModelRegistry]:
    """The models the judges of each run's item call, by run id: the ones the run had, so
    behind its experiment's cassette when it has one (``runs.hooks.MODEL_WRAPPERS``)."""
    return models_of(runs, model_registries([workspace_id]))


@dataclass(frozen=True)
class Case:
    """What one judge grades: an item's input, expected output and output, with the models
    the judge calls (``models_for``)."""

    spec: Judge
    models: ModelRegistry
    task_input: Any
    output: Any
    expected: Any


def judge(
    spec: Judge, models: ModelRegistry, task_input: Any, output: Any, expected: Any
) -> Judged:
    """The judge's verdict and its cost (``judge_many`` of one case)."""
    return judge_many([Case(spec, models, task_input, output, expected)])[0]


def judge_many(cases: Sequence[Case]) -> list[Judged]:
    """Each case's verdict and its cost, in order. The calls are made together, up to
    ``JUDGES_AT_ONCE`` at a time, each paced by its credential's rate limit as a run's calls
    are: an experiment's step judges every item that ended with it, and one after another a
    step of 25 items on a judge that answers in 2 s held the experiment for 50 s. A model
    that fails or answers out of shape, or a request a replayed cassette lacks (``on_miss:
    fail``), scores 0, saying so (an answer out of shape still cost what it cost). An
    unknown model (deleted since the experiment started) is ``UnknownModel``, before
    anything is called."""
    if not cases:
        return []
    calls = [(case, _model(case)) for case in cases]
    return run_loop.submit(_judge_all(calls)).result(time_for(len(calls)))


def _model(case: Case) -> ResolvedModel:
    try:
        return case.models.get(case.spec.model)
    except KeyError as exc:
        raise UnknownModel(f"Judge {case.spec.label}: {exc.args[0]}") from None


def time_for(calls: int) -> float:
    """The longest ``judge_many`` of ``calls`` cases takes before it gives up, in seconds."""
    rounds = -(-calls // JUDGES_AT_ONCE)
    return rounds * (JUDGE_TIMEOUT_S + 5) + 5


async def _judge_all(calls: list[tuple[Case, ResolvedModel]]) -> list[Judged]:
    places = asyncio.Semaphore(JUDGES_AT_ONCE)
    return list(await asyncio.gather(*(_judge_one(c, m, places) for c, m in calls)))


async def _judge_one(case: Case, model: ResolvedModel, places: asyncio.Semaphore) -> Judged:
    spec = case.spec
    grading = {"rubric": spec.rubric, "input": case.task_input, "expected": case.expected,
               "output": case.output}  # fmt: skip
    request = ModelRequest(
        model=model.model,
        messages=(
            ChatMessage("system", INSTRUCTIONS),
            ChatMessage("user", json.dumps(grading, ensure_ascii=False, default=str)),
        ),
        output_schema=VERDICT_SCHEMA,
        temperature=0,
        timeout_s=JUDGE_TIMEOUT_S,
    )
    async with places:
        try:
            await _paced(model, request)
            response = await asyncio.wait_for(model.provider.complete(request), JUDGE_TIMEOUT_S + 5)
        except Missing as exc:
            return Judged(Score(0.0, _missing(spec, exc.cassette)))
        except Exception as exc:  # a judge that cannot answer is a result, not a crash
            return Judged(
                Score(0.0, f"The judge {spec.model} could not answer: {exc or type(exc).__name__}")
            )
    usd = model.cost_usd(response.usage)
    try:
        verdict = Verdict.model_validate_json(response.content or "")
    except ValidationError:
        text = (response.content or "")[:200]
        return Judged.costing(
            Score(0.0, f"The judge answered out of shape: {text}"), response.usage, usd
        )
    return Judged.costing(Score(verdict.score, verdict.reason), response.usage, usd)


async def _paced(model: ResolvedModel, request: ModelRequest) -> None:
    """Waits for the slot the credential's rate limit gives the call, as a run's call does
    (``runs.engine.activities``), and past a pause a 429 set meanwhile."""
    if model.rate_limit is None:
        return
    tokens = estimated_tokens(request)
    while (wait := await model.rate_limit.reserve(tokens)) > 0:
        await asyncio.sleep(wait)
        if await model.rate_limit.paused_for() <= 0:
            return


def _missing(spec: Judge, cassette: int) -> str:
    return (
        f"The judge's request to the model {spec.model} is not in cassette {cassette}, and "
        "the experiment replays without calling models for what the cassette lacks "
        '("on_miss": "fail"). Its rubric, its model or the output it grades changed since '
        'the recording: run it with "on_miss": "live" to call the judge for such requests.'
    )
