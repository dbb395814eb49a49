"""Token and money accounting, live, with budgets per agent and per run.

Every model response (new or replayed from the journal) is added to the totals, so the totals
after a resume are those of the whole run. A budget is checked before each model call that is
really made: at ``budget_warning_ratio`` a ``budget.warning`` event, at the limit the run pauses
with a ``human.requested`` of kind "budget" keyed on that call. The answer
``{"approve": true, "extra_tokens": N, "extra_usd": X}`` raises the exceeded limits by that much
(taken again from the journal on every later replay); ``{"approve": false}`` fails the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, ValidationError

from teams.spec import Agent, TeamLimits

from .errors import RunFailed, Suspended
from .events import BUDGET_WARNING, HUMAN_REQUESTED, RUN_WAITING, USAGE, Event
from .interfaces import ResolvedModel, Usage, answer_key
from .scope import Scope


class EventLog(Protocol):
    """What budgets use of the run's context (``context.RunContext``, which holds them): the
    events recorded, and emitting more."""

    def recorded(self, key: str) -> Event | None: ...

    async def emit(
        self,
        type_: str,
        key: str,
        scope: Scope,
        payload: dict[str, Any],
        *,
        durable: bool = True,
        result: bool = False,
    ) -> None: ...


@dataclass
class Totals:
    tokens: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0

    def add(self, usage: Usage, cost: float) -> None:
        self.input_tokens += usage.input_tokens
        self.output_tokens += usage.output_tokens
        self.tokens += usage.input_tokens + usage.output_tokens
        self.usd += cost

    def as_dict(self) -> dict[str, Any]:
        return {"tokens": self.tokens, "usd": round(self.usd, 8)}


class BudgetAnswer(BaseModel):
    approve: bool
    extra_tokens: int = 0
    extra_usd: float = 0.0


@dataclass
class Budgets:
    limits: TeamLimits
    run: Totals = field(default_factory=Totals)
    agents: dict[str, Totals] = field(default_factory=dict)
    extra: dict[str, tuple[int, float]] = field(default_factory=dict)  # scope -> raised by
    warned: set[str] = field(default_factory=set)

    async def record(
        self,
        ctx: EventLog,
        scope: Scope,
        agent: Agent,
        model: ResolvedModel,
        usage: Usage,
        key: str,
    ) -> None:
        cost = model.cost_usd(usage)
        self.run.add(usage, cost)
        mine = self.agents.setdefault(agent.id, Totals())
        mine.add(usage, cost)
        payload = {
            "model": model.name,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cost_usd": cost,
            "totals": {"run": self.run.as_dict(), "agent": mine.as_dict()},
        }
        await ctx.emit(USAGE, f"{key}#usage", scope, payload, durable=False)
        for name, used, limit, unit in self._measures(agent):
            warning_key = f"budget/{name}/{unit}:warning"
            if limit is None or warning_key in self.warned:
                continue
            if used >= limit * self.limits.budget_warning_ratio:
                self.warned.add(warning_key)
                warning = {
                    "scope": name.split(":")[0],
                    "name": name,
                    "used": used,
                    "limit": limit,
                    "unit": unit,
                }
                await ctx.emit(BUDGET_WARNING, warning_key, scope, warning)

    async def before_call(self, ctx: EventLog, scope: Scope, agent: Agent, key: str) -> None:
        """Apply a recorded approval at this call; pause if a limit is reached before a real call."""
        activity = f"{key}#budget"
        answered = ctx.recorded(answer_key(activity))
        if answered is not None:
            self._apply(activity, ctx, answered.payload.get("answer"))
        if ctx.recorded(key) is not None:
            return
        exceeded = [
            (n, u, lim, unit)
            for n, u, lim, unit in self._measures(agent)
            if lim is not None and u >= lim
        ]
        if not exceeded or answered is not None:
            return
        names = sorted({n for n, *_ in exceeded})
        summary = "; ".join(f"{n}: {u:g} of {lim:g} {unit}" for n, u, lim, unit in exceeded)
        reason = f"Budget reached ({summary}). Approve more to go on, or stop the run."
        request = {
            "activity_key": activity,
            "node": agent.id,
            "prompt": reason,
            "answer_schema": BudgetAnswer.model_json_schema(),
            "kind": "budget",
            "scopes": names,
        }
        await ctx.emit(HUMAN_REQUESTED, activity, scope, request)
        await ctx.emit(
            RUN_WAITING, f"{activity}:waiting", scope, {"activity_key": activity, "reason": reason}
        )
        raise Suspended(activity, reason)

    def _apply(self, activity: str, ctx: EventLog, raw: Any) -> None:
        try:
            answer = BudgetAnswer.model_validate(raw)
        except ValidationError as exc:
            raise RunFailed(
                f"The budget answer could not be read: {exc.errors()[0]['msg']}."
            ) from exc
        if not answer.approve:
            raise RunFailed(
                "Stopped at the budget limit: a person declined to approve more.", "budget"
            )
        requested = ctx.recorded(activity)
        for name in requested.payload.get("scopes", []) if requested else []:
            tokens, usd = self.extra.get(name, (0, 0.0))
            self.extra[name] = (tokens + answer.extra_tokens, usd + answer.extra_usd)

    def _measures(self, agent: Agent) -> list[tuple[str, float, float | None, str]]:
        mine = self.agents.get(agent.id, Totals())
        run_extra = self.extra.get("run", (0, 0.0))
        agent_name = f"agent:{agent.id}"
        agent_extra = self.extra.get(agent_name, (0, 0.0))
        return [
            ("run", self.run.tokens, _plus(self.limits.token_budget, run_extra[0]), "tokens"),
            ("run", self.run.usd, _plus(self.limits.cost_budget_usd, run_extra[1]), "usd"),
            (agent_name, mine.tokens, _plus(agent.limits.token_budget, agent_extra[0]), "tokens"),
            (agent_name, mine.usd, _plus(agent.limits.cost_budget_usd, agent_extra[1]), "usd"),
        ]


def _plus(limit: float | None, extra: float) -> float | None:
    return None if limit is None else limit + extra
