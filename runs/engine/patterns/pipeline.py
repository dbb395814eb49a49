"""Pipeline: stages along ``next`` edges, a DAG. A stage starts as soon as all its inputs are
ready, so independent branches run concurrently; a stage with several inputs (a join) gets
``{stage_id: output}``. A gate on an edge checks the stage's output (a reviewer agent answering
pass/fail with feedback, or a JSON Schema); on failure the stage runs again with the feedback, at
most ``max_attempts`` times, then the run fails with the gate's reason. The pipeline's output is
the output of its last stage (or ``{stage_id: output}`` when it ends in several)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any

from teams.spec import Agent, Edge, TeamSpec

from ..concurrency import gather_all
from ..context import RunContext, Scope
from ..errors import RunFailed
from ..events import GATE_FAILED, GATE_PASSED
from ..interfaces import ChatMessage
from ..nodes import Node, run_node
from ..structured import parse_output, schema_problems

VERDICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pass": {"type": "boolean", "description": "Whether the work passes the criteria."},
        "feedback": {"type": "string", "description": "What to change when it does not."},
    },
    "required": ["pass", "feedback"],
}


@dataclass(frozen=True)
class Verdict:
    edge: Edge
    passed: bool
    feedback: str


async def run_pipeline(
    ctx: RunContext, team: TeamSpec, scope: Scope, task: Any, history: Sequence[ChatMessage] = ()
) -> Any:
    inputs = _stage_inputs(team)
    order = _topological(team, inputs)
    loop = asyncio.get_running_loop()
    done: dict[str, asyncio.Future[Any]] = {s: loop.create_future() for s in order}

    async def stage(stage_id: str) -> Any:
        given = {p: await done[p] for p in inputs[stage_id]}
        node = team.node(stage_id)
        assert node is not None
        prior = history if stage_id == team.entry else ()  # a conversation reaches the entry
        output = await _run_gated(ctx, team, node, scope, _merge(task, given), prior)
        done[stage_id].set_result(output)
        return output

    outputs = dict(zip(order, await gather_all([stage(s) for s in order]), strict=True))
    last = [s for s in order if not team.edges_from(s, "next")]
    return outputs[last[0]] if len(last) == 1 else {s: outputs[s] for s in last}


def _merge(task: Any, given: dict[str, Any]) -> Any:
    """A first stage gets the run's input, a stage after one gets its output, a join gets all."""
    if not given:
        return task
    return next(iter(given.values())) if len(given) == 1 else given


def _stage_inputs(team: TeamSpec) -> dict[str, list[str]]:
    stages = {team.entry or ""} | {e.source for e in team.edges if e.kind == "next"}
    stages |= {e.target for e in team.edges if e.kind == "next"}
    return {s: [e.source for e in team.edges_to(s, "next")] for s in stages if team.node(s)}


def _topological(team: TeamSpec, inputs: dict[str, list[str]]) -> list[str]:
    try:
        return list(TopologicalSorter(inputs).static_order())
    except CycleError as exc:
        raise RunFailed(
            f"The pipeline of {team.name!r} has a cycle ({' -> '.join(exc.args[1])}); "
            "a pipeline must be a DAG: send work back with a gate instead.",
            "invalid_team",
        ) from exc


async def _run_gated(
    ctx: RunContext,
    team: TeamSpec,
    node: Node,
    scope: Scope,
    stage_input: Any,
    history: Sequence[ChatMessage] = (),
) -> Any:
    gated = [e for e in team.edges_from(node.id, "next") if e.gate is not None]
    attempt, task = 1, stage_input
    while True:
        segment = node.id if attempt == 1 else f"{node.id}@{attempt}"
        stage_scope = scope.child(segment, node.id)
        output = (await run_node(ctx, team, node, stage_scope, task, history)).output
        verdicts = [await _check(ctx, team, e, output, stage_scope) for e in gated]
        failed = [v for v in verdicts if not v.passed]
        for verdict in verdicts:
            await _emit_verdict(ctx, verdict, stage_scope, attempt)
        if not failed:
            return output
        if attempt > _limit(ctx, failed):
            feedback = "; ".join(v.feedback for v in failed)
            raise RunFailed(
                f"{node.name}'s work was sent back {attempt - 1} times and still fails its gate: "
                f"{feedback}",
                "gate_failed",
            )
        feedback = "\n".join(v.feedback for v in failed)
        task = {"task": stage_input, "previous_output": output, "feedback": feedback}
        attempt += 1


def _limit(ctx: RunContext, failed: list[Verdict]) -> int:
    caps = [v.edge.gate.max_attempts for v in failed if v.edge.gate]
    uncapped = ctx.options.max_gate_attempts_when_uncapped
    return min(uncapped if c is None else c for c in caps)


async def _emit_verdict(
    ctx: RunContext, verdict: Verdict, stage_scope: Scope, attempt: int
) -> None:
    gate = verdict.edge.gate
    assert gate is not None
    will_retry = not verdict.passed and attempt <= _limit(ctx, [verdict])
    payload: dict[str, Any] = {"edge": verdict.edge.id, "gate": gate.kind, "attempt": attempt,
                               "feedback": verdict.feedback}  # fmt: skip
    if not verdict.passed:
        payload["will_retry"] = will_retry
    kind = GATE_PASSED if verdict.passed else GATE_FAILED
    await ctx.emit(kind, stage_scope.key(f"gate-{verdict.edge.id}"), stage_scope, payload)


async def _check(
    ctx: RunContext, team: TeamSpec, edge: Edge, output: Any, stage_scope: Scope
) -> Verdict:
    gate = edge.gate
    assert gate is not None
    if gate.kind == "schema":
        if isinstance(output, str):
            _, problems = parse_output(output, gate.output_schema or {})
        else:
            problems = schema_problems(output, gate.output_schema or {})
        return Verdict(edge, not problems, "; ".join(problems))
    reviewer = team.node(gate.reviewer or "")
    if not isinstance(reviewer, Agent):
        raise RunFailed(f"The gate on edge {edge.id!r} names no reviewer agent.", "invalid_team")
    if reviewer.output_schema is None:
        reviewer = reviewer.model_copy(update={"output_schema": VERDICT_SCHEMA})
    review = {"output": output, "criteria": gate.criteria}
    scope = stage_scope.child(f"gate-{edge.id}", reviewer.id)
    answer = (await run_node(ctx, team, reviewer, scope, review)).output
    return _verdict(edge, answer)


def _verdict(edge: Edge, answer: Any) -> Verdict:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError:
            return Verdict(edge, False, f"The reviewer did not answer pass/fail: {answer[:500]}")
    if not isinstance(answer, dict):
        return Verdict(edge, False, "The reviewer did not answer pass/fail.")
    passed = next((answer[k] for k in ("pass", "passed", "approved") if k in answer), False)
    feedback = answer.get("feedback") or ""
    # A reviewer may give structured feedback (the issues a tool found): pass it on as JSON.
    if not isinstance(feedback, str):
        feedback = json.dumps(feedback, ensure_ascii=False)
    return Verdict(edge, bool(passed), feedback)
