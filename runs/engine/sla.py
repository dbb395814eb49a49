"""Service levels and escalation.

A run whose input names a ``priority`` and an ``sla`` mapping priorities to seconds
(``{"priority": "high", "sla": {"urgent": 900, "high": 3600}}``) gets one ``sla.breached``
event when that many seconds pass, counted from ``run.started``, before it ends.

What a breach does is the team's to say (``TeamSpec.sla.escalations``, the first whose
priorities include the run's). Without an escalation the run goes on. With one, the engine
records ``sla.escalated`` and:

- ``hand_to``: stops the work in progress and gives the task to that agent or human node,
  which works at ``run/@escalation``; its answer is the run's output. A run executed again
  after the escalation goes straight to that node, so the interrupted work is never resumed
  half-way.
- ``raise_priority_to``: the run carries that priority from then on (in the event, and in the
  task handed over).
- ``notify_webhooks``: the shell delivers the event to the team's webhooks that want it.

A run that waits for a person while its service level runs out asks to be woken at the
deadline (``Suspended.wake_after_s``) when the team escalates, so the escalation does not wait
for the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from teams.spec import Escalation, TeamSpec

from .context import RunContext
from .errors import RunFailed, Suspended
from .events import SLA_BREACHED, SLA_ESCALATED
from .scope import ROOT

BREACH_KEY = ROOT.key("sla-breached")
ESCALATED_KEY = ROOT.key("sla-escalated")
#: Where the node that takes the work over works (``run/@escalation``): no node id starts
#: with "@", so no path of the team's own nodes is ever this one.
ESCALATION_SEGMENT = "@escalation"


def sla_deadline(task_input: Any) -> tuple[str, float] | None:
    """(priority, seconds) when the input asks for a service level, else None."""
    if not isinstance(task_input, dict):
        return None
    sla, priority = task_input.get("sla"), task_input.get("priority")
    if not isinstance(sla, dict) or not isinstance(priority, str):
        return None
    seconds = sla.get(priority)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        return None
    return priority, float(seconds)


async def within_sla(
    ctx: RunContext, spec: TeamSpec, task_input: Any, work: Callable[[], Awaitable[Any]]
) -> Any:
    """Do ``work()`` (the team's pattern) under the run's service level: record a breach when
    it passes and carry out the team's escalation. Returns the run's output."""
    deadline = sla_deadline(task_input)
    if deadline is None:
        return await work()
    priority, seconds = deadline
    escalation = spec.escalation_for(priority)
    if escalation is not None and escalation.hand_to and ctx.journal.has(ESCALATED_KEY):
        # Executed again after the hand-over: only the node that took the work counts.
        return await _hand_over(ctx, spec, task_input, escalation, priority, seconds)
    if ctx.journal.has(BREACH_KEY):
        return await work()
    started = ctx.recorded(ROOT.key("started"))
    start = started.ts if started is not None else ctx.clock.now()
    breach = _Breach(ctx, spec, task_input, priority, seconds, escalation, start)
    remaining = seconds - (ctx.clock.now() - start)
    if remaining <= 0:  # it passed while nothing ran (the run waited, or was queued)
        if await breach.record():
            return await breach.hand_over()
        return await work()
    pattern = asyncio.ensure_future(work())
    timer = asyncio.ensure_future(ctx.clock.sleep(remaining))
    try:
        await asyncio.wait({pattern, timer}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        await _cancel(pattern)
        raise
    finally:
        await _cancel(timer)
    if pattern.done():
        return _result_waking_for(pattern, escalation, seconds - (ctx.clock.now() - start))
    if await breach.record():
        await _cancel(pattern)
        return await breach.hand_over()
    return await pattern


class _Breach:
    def __init__(
        self,
        ctx: RunContext,
        spec: TeamSpec,
        task_input: Any,
        priority: str,
        seconds: float,
        escalation: Escalation | None,
        start: float,
    ) -> None:
        self.ctx, self.spec, self.task_input = ctx, spec, task_input
        self.priority, self.seconds, self.escalation, self.start = (
            priority,
            seconds,
            escalation,
            start,
        )

    async def record(self) -> bool:
        """Record the breach and the escalation; True when a node takes the work over."""
        elapsed = round(self.ctx.clock.now() - self.start, 3)
        breach = {"priority": self.priority, "deadline_s": self.seconds, "elapsed_s": elapsed}
        await self.ctx.emit(SLA_BREACHED, BREACH_KEY, ROOT, breach)
        escalation = self.escalation
        if escalation is None:
            return False
        node = self.spec.node(escalation.hand_to or "")
        payload = {
            **breach,
            "hand_to": escalation.hand_to,
            "hand_to_name": node.name if node is not None else None,
            "raised_priority": escalation.raise_priority_to,
            "notify_webhooks": escalation.notify_webhooks,
        }
        await self.ctx.emit(SLA_ESCALATED, ESCALATED_KEY, ROOT, payload)
        return bool(escalation.hand_to)

    async def hand_over(self) -> Any:
        assert self.escalation is not None
        return await _hand_over(
            self.ctx, self.spec, self.task_input, self.escalation, self.priority, self.seconds
        )


async def _hand_over(
    ctx: RunContext,
    spec: TeamSpec,
    task_input: Any,
    escalation: Escalation,
    priority: str,
    seconds: float,
) -> Any:
    from .nodes import run_node  # nodes run patterns' nodes; keep the import graph one-way

    node = spec.node(escalation.hand_to or "")
    if node is None:
        raise RunFailed(
            f"The escalation hands the work to {escalation.hand_to!r}, which is not a node of "
            "this team: choose an agent or a person of the team.",
            "invalid_team",
        )
    task = {
        "escalated": f"The {priority} service level ({seconds:g} s) passed before the work "
        "was done; it is yours now.",
        "priority": escalation.raise_priority_to or priority,
        "input": task_input,
    }
    scope = ROOT.child(ESCALATION_SEGMENT, node.id)
    result = await run_node(ctx, spec, node, scope, task)
    return result.output


def _result_waking_for(
    pattern: asyncio.Future[Any], escalation: Escalation | None, left: float
) -> Any:
    """The pattern's result; a run that suspends asks to be woken when its service level
    passes, if the team escalates then."""
    try:
        return pattern.result()
    except Suspended as suspended:
        if escalation is None:
            raise
        wake = suspended.wake_after_s
        wake = max(0.0, left) if wake is None else min(wake, max(0.0, left))
        raise Suspended(suspended.activity_key, suspended.reason, wake) from None


async def _cancel(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await future


__all__ = ["BREACH_KEY", "ESCALATED_KEY", "sla_deadline", "within_sla"]
