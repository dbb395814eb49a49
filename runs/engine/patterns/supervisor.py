"""Supervisor: the entry agent gets one ``delegate_to_<worker>`` tool per ``delegates`` edge.
Several delegations in one turn run concurrently; each worker's output, or its failure, comes
back as the tool result, so the supervisor aggregates and can route around a failed worker. It
ends when the supervisor answers without delegating, or fails at its turn limit. A worker with
``delegates`` edges of its own supervises in turn."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from teams.spec import Agent, TeamSpec

from ..agent import AgentResult, ControlHandler, ControlTool
from ..context import RunContext, Scope
from ..errors import AgentFailed
from ..events import DELEGATION, ERROR
from ..interfaces import ChatMessage, ToolCall, ToolResult, ToolSchema
from ..nodes import Node, run_node

_TASK_PARAMETERS = {
    "type": "object",
    "properties": {"task": {"type": "string", "description": "What the worker should do."}},
    "required": ["task"],
}


async def run_supervisor(
    ctx: RunContext, team: TeamSpec, scope: Scope, task: Any, history: Sequence[ChatMessage] = ()
) -> Any:
    entry = team.node(team.entry or "")
    assert entry is not None
    result = await _supervise(ctx, team, entry, scope.child(entry.id, entry.id), task, history)
    return result.output


async def _supervise(
    ctx: RunContext,
    team: TeamSpec,
    node: Node,
    scope: Scope,
    task: Any,
    history: Sequence[ChatMessage] = (),
) -> AgentResult:
    control = delegation_tools(ctx, team, node) if isinstance(node, Agent) else []
    return await run_node(ctx, team, node, scope, task, history, control=control)


def delegation_tools(ctx: RunContext, team: TeamSpec, supervisor: Agent) -> list[ControlTool]:
    tools = []
    for edge in team.edges_from(supervisor.id, "delegates"):
        worker = team.node(edge.target)
        if worker is None:
            continue
        about = " ".join(p for p in (worker.role, edge.description) if p)
        schema = ToolSchema(
            name=f"delegate_to_{worker.id}"[:64],
            description=f"Delegate a task to {worker.name}. {about}".strip(),
            parameters=_TASK_PARAMETERS,
        )
        tools.append(ControlTool(schema, run=_delegate_handler(ctx, team, worker)))
    return tools


def _delegate_handler(ctx: RunContext, team: TeamSpec, worker: Node) -> ControlHandler:
    async def delegate(call_scope: Scope, call: ToolCall, arguments: dict[str, Any]) -> ToolResult:
        task = arguments.get("task", "")
        event = {"to": worker.id, "task": task, "call_id": call.id}
        await ctx.emit(DELEGATION, call_scope.key("delegation"), call_scope, event, durable=False)
        try:
            result = await _supervise(
                ctx, team, worker, call_scope.child(worker.id, worker.id), task
            )
        except AgentFailed as failure:
            # Route around: the supervisor reads the failure and decides how to go on.
            message = f"{worker.name} failed: {failure.reason}"
            error = {"message": f"{message} The supervisor was told and goes on.",
                     "error_type": failure.error_type, "activity_key": call_scope.path,
                     "recoverable": True}  # fmt: skip
            await ctx.emit(ERROR, call_scope.key("worker-failed"), call_scope, error)
            return ToolResult(ok=False, error=f"{message} Go on without it, or try another way.")
        return ToolResult(ok=True, result=result.output)

    return delegate
