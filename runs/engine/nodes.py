"""Running one node of a team: an agent (with its deadline and fallback), a person, or a whole
nested team acting as one agent. Each gets an agent span: ``agent.started`` ... ``agent.finished``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from teams.spec import Agent, HumanNode, TeamNode, TeamSpec

from .activities import ask_human
from .agent import AgentResult, ControlTool, run_agent
from .concurrency import within
from .context import RunContext, Scope
from .errors import AgentFailed, DeadlineExceeded, RunFailed
from .events import AGENT_FINISHED, AGENT_STARTED, FALLBACK
from .interfaces import ChatMessage

Node = Agent | HumanNode | TeamNode


async def run_node(
    ctx: RunContext,
    team: TeamSpec,
    node: Node,
    scope: Scope,
    task: Any,
    history: Sequence[ChatMessage] = (),
    control: Sequence[ControlTool] = (),
) -> AgentResult:
    started = {"task": task, "path": scope.path}
    await ctx.emit(AGENT_STARTED, scope.key("started"), scope, started, durable=False)
    try:
        result = await _run(ctx, team, node, scope, task, history, control)
    except AgentFailed as failure:
        await _finished(ctx, scope, None, failure.reason)
        if isinstance(node, Agent) and node.fallback:
            return await _fall_back(ctx, team, node, scope, task, history, control, failure)
        raise
    await _finished(ctx, scope, result.output, None)
    return result


async def _run(
    ctx: RunContext,
    team: TeamSpec,
    node: Node,
    scope: Scope,
    task: Any,
    history: Sequence[ChatMessage],
    control: Sequence[ControlTool],
) -> AgentResult:
    if isinstance(node, HumanNode):
        return AgentResult(await ask_human(ctx, scope, node, task))
    if isinstance(node, TeamNode):
        if node.spec is None:
            raise RunFailed(
                f"Team node {node.name!r} has no team to run: pick a saved team or put one inline.",
                "invalid_team",
            )
        assert ctx.run_team is not None, "the runner gives every run a way to run teams"
        try:
            return AgentResult(await ctx.run_team(ctx, node.spec, scope, task))
        except RunFailed as failure:
            if failure.error_type == "invalid_team":
                raise  # a broken definition is for a person to fix, not to route around
            raise AgentFailed(node.id, failure.reason, failure.error_type) from failure
    try:
        return await within(
            ctx.clock, node.limits.timeout_s, run_agent(ctx, node, scope, task, history, control)
        )
    except DeadlineExceeded as exc:
        raise AgentFailed(node.id, f"{node.name} {exc}.", "deadline") from exc


async def _fall_back(
    ctx: RunContext,
    team: TeamSpec,
    agent: Agent,
    scope: Scope,
    task: Any,
    history: Sequence[ChatMessage],
    control: Sequence[ControlTool],
    failure: AgentFailed,
) -> AgentResult:
    fallback = team.node(agent.fallback or "")
    if not isinstance(fallback, Agent):
        raise AgentFailed(
            agent.id,
            f"{failure.reason} Its fallback {agent.fallback!r} is not an agent of this team.",
        )
    chain = scope.path.rsplit("/", 1)[-1].split("~")
    if fallback.id in chain:
        raise AgentFailed(agent.id, f"{failure.reason} (fallbacks loop back to {fallback.id!r})")
    event = {"from": agent.id, "to": fallback.id, "reason": failure.reason}
    await ctx.emit(FALLBACK, scope.key("fallback"), scope, event)
    fallback_scope = Scope(f"{scope.path}~{fallback.id}", fallback.id, scope.parent_span_id)
    return await run_node(ctx, team, fallback, fallback_scope, task, history, control)


async def _finished(ctx: RunContext, scope: Scope, output: Any, reason: str | None) -> None:
    status = "failed" if reason else "ok"
    payload = {"output": output, "status": status, "reason": reason}
    await ctx.emit(AGENT_FINISHED, scope.key("finished"), scope, payload, durable=False)
