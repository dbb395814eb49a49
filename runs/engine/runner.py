"""The entry point: ``run_team`` runs a team to its end, its first wait, or its cancellation.

The shell calls it with the run's recorded events as the journal; every call continues the same
run (crash recovery, an answered question, an approved budget) because everything already
recorded is taken from the journal, not done again.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from teams.spec import TeamSpec

from .budgets import Budgets
from .concurrency import within
from .context import EngineOptions, RunContext
from .conversation import parse_turn, prepare
from .errors import AgentFailed, DeadlineExceeded, RunCancelled, RunFailed, Suspended
from .events import RUN_CANCELLED, RUN_FAILED, RUN_FINISHED, RUN_STARTED
from .interfaces import (
    ArtifactStore,
    CancelToken,
    Clock,
    EventSink,
    Journal,
    ModelRegistry,
    RunOutcome,
    ToolRegistry,
)
from .patterns import run_pattern
from .scope import ROOT
from .sla import within_sla


async def run_team(
    spec: TeamSpec,
    task_input: Any,
    *,
    journal: Journal,
    sink: EventSink,
    models: ModelRegistry,
    tools: ToolRegistry,
    clock: Clock,
    cancel: CancelToken,
    seed: int = 0,
    run_id: str = "",
    options: EngineOptions | None = None,
    artifacts: ArtifactStore | None = None,
    tool_settings: dict[str, Any] | None = None,
) -> RunOutcome:
    """Run ``spec`` on ``task_input`` until it ends, waits for a person, or is cancelled.

    ``artifacts`` and ``tool_settings`` are handed to tools in their ``ToolContext``.
    """
    budgets = Budgets(spec.limits)
    ctx = RunContext(journal, sink, models, tools, clock, cancel, seed, run_id, budgets,
                     options or EngineOptions(), artifacts=artifacts,
                     tool_settings=tool_settings or {}, run_team=run_pattern)  # fmt: skip
    started = {"input": task_input, "team": spec.name, "pattern": spec.pattern}
    await ctx.emit(RUN_STARTED, ROOT.key("started"), ROOT, started, durable=False)
    try:
        output = await _until_cancelled(
            ctx, within(clock, spec.limits.timeout_s, _body(ctx, spec, task_input))
        )
    except Suspended as suspended:
        return _outcome(
            ctx,
            "waiting",
            reason=suspended.reason,
            waiting_for=suspended.activity_key,
            wake_after_s=suspended.wake_after_s,
        )
    # The event that ends the run is not waited for: the caller stores what is queued
    # before it acts on the outcome (``EventSink``).
    except RunCancelled as cancelled:
        payload = {"reason": cancelled.reason}
        await ctx.emit(RUN_CANCELLED, ROOT.key("cancelled"), ROOT, payload, durable=False)
        return _outcome(ctx, "cancelled", reason=cancelled.reason)
    except (RunFailed, AgentFailed, DeadlineExceeded) as failure:
        reason, error_type = _why(failure, spec)
        payload = {"reason": reason, "error_type": error_type}
        await ctx.emit(RUN_FAILED, ROOT.key("failed"), ROOT, payload, durable=False)
        return _outcome(ctx, "failed", reason=reason)
    await ctx.emit(RUN_FINISHED, ROOT.key("finished"), ROOT, {"output": output}, durable=False)
    return _outcome(ctx, "succeeded", output=output)


async def _body(ctx: RunContext, spec: TeamSpec, task_input: Any) -> Any:
    ctx.check_cancelled()
    return await within_sla(ctx, spec, task_input, lambda: _pattern(ctx, spec, task_input))


async def _pattern(ctx: RunContext, spec: TeamSpec, task_input: Any) -> Any:
    """The team's pattern on the run's input; a conversation's turn brings the conversation so
    far to the entry agent (``conversation``)."""
    turn = parse_turn(task_input)
    if turn is None:
        return await run_pattern(ctx, spec, ROOT, task_input)
    prepared = await prepare(ctx, spec, turn)
    return await run_pattern(ctx, spec, ROOT, prepared.task, prepared.history)


async def _until_cancelled(ctx: RunContext, work: Any) -> Any:
    """Race the run against its cancel token, so a cancel stops calls in flight at once."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(ctx.cancel.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        raise RunCancelled(ctx.cancel.reason or "Cancelled.")
    finally:
        for pending in (task, waiter):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await pending


def _why(failure: Exception, spec: TeamSpec) -> tuple[str, str]:
    if isinstance(failure, DeadlineExceeded):
        return f"The run {failure}: its deadline ({spec.limits.timeout_s:g} s) passed.", "deadline"
    if isinstance(failure, AgentFailed):
        return failure.reason, failure.error_type
    assert isinstance(failure, RunFailed)
    return failure.reason, failure.error_type


def _outcome(ctx: RunContext, status: Any, **fields: Any) -> RunOutcome:
    totals = ctx.budgets.run
    return RunOutcome(status=status, input_tokens=totals.input_tokens,
                      output_tokens=totals.output_tokens, cost_usd=totals.usd, **fields)  # fmt: skip
