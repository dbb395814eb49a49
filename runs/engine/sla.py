"""Service-level deadlines. A run whose input names a ``priority`` and an ``sla`` mapping
priorities to seconds (``{"priority": "high", "sla": {"urgent": 900, "high": 3600}}``) gets one
``sla.breached`` event when that many seconds pass, counted from ``run.started``, before it
ends. The run goes on: a breach is for people to see and report on; what stops work is the
run's and each agent's own deadline (``limits.timeout_s``) and the fallbacks behind them."""

from __future__ import annotations

from typing import Any

from .context import RunContext
from .events import SLA_BREACHED
from .scope import ROOT

BREACH_KEY = ROOT.key("sla-breached")


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


async def watch_sla(ctx: RunContext, task_input: Any) -> None:
    """Sleep until the service-level deadline, then record the breach. Cancelled when the run
    ends or suspends first; a resumed run counts from its original start."""
    deadline = sla_deadline(task_input)
    if deadline is None or ctx.journal.has(BREACH_KEY):
        return
    priority, seconds = deadline
    started = ctx.recorded(ROOT.key("started"))
    start = started.ts if started is not None else ctx.clock.now()
    await ctx.clock.sleep(max(0.0, seconds - (ctx.clock.now() - start)))
    elapsed = round(ctx.clock.now() - start, 3)
    payload = {"priority": priority, "deadline_s": seconds, "elapsed_s": elapsed}
    await ctx.emit(SLA_BREACHED, BREACH_KEY, ROOT, payload)


__all__ = ["BREACH_KEY", "sla_deadline", "watch_sla"]
