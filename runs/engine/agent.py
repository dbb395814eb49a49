"""The agent loop: model turn, tool calls, repeat until an answer, within the turn limit.

Patterns add "control tools" to an agent: delegation tools (supervisor) and transfer tools
(swarm). They look like any tool to the model; the engine runs them itself. All tool calls of
one turn run concurrently, and each result goes back to the model as a tool message, failures
included, so the model can react to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from teams.spec import Agent

from .activities import (
    call_model,
    call_tool,
    parse_arguments,
    record_tool_result,
    tool_call_payload,
    tool_result_from,
)
from .concurrency import gather_all
from .context import RunContext, Scope
from .errors import AgentFailed
from .events import ERROR, MESSAGE, TOOL_CALL, TURN_STARTED
from .interfaces import ChatMessage, ModelRequest, ResolvedModel, ToolCall, ToolResult, ToolSchema
from .structured import as_text, parse_output, repair_prompt

ControlHandler = Callable[[Scope, ToolCall, dict[str, Any]], Awaitable[ToolResult]]


@dataclass(frozen=True)
class ControlTool:
    """A tool the engine runs itself: a delegation (``run``) or a transfer (``handoff_to``)."""

    schema: ToolSchema
    run: ControlHandler | None = None
    handoff_to: str | None = None


@dataclass(frozen=True)
class Handoff:
    to: str
    reason: str


@dataclass
class AgentResult:
    output: Any
    conversation: list[ChatMessage] = field(default_factory=list)  # without the system prompt
    handoff: Handoff | None = None


async def run_agent(
    ctx: RunContext,
    agent: Agent,
    scope: Scope,
    task: Any,
    history: Sequence[ChatMessage] = (),
    control: Sequence[ControlTool] = (),
) -> AgentResult:
    models = [_resolve(ctx, agent, name) for name in (agent.model, *agent.fallback_models)]
    model = models[0]
    messages = [ChatMessage("system", _system_prompt(agent)), *history]
    if task is not None:
        messages.append(ChatMessage("user", as_text(task)))
        shown = _shown("user", as_text(task))
        await ctx.emit(MESSAGE, scope.key("input"), scope, shown, durable=False)
    tools = [*ctx.tools.schemas(agent.tools), *(c.schema for c in control)]
    repairs = 0
    for number in range(1, agent.limits.max_turns + 1):
        turn = scope.child(f"t{number}")
        # The model call starts only once every result emitted before it is stored.
        await ctx.announce(TURN_STARTED, turn.key("turn"), turn, {"turn": number})
        request = ModelRequest(model.model, tuple(messages), tuple(tools), agent.output_schema)
        response = await call_model(ctx, turn, agent, models, request)
        messages.append(ChatMessage("assistant", response.content, response.tool_calls))
        if response.tool_calls:
            handoff = await _run_tool_calls(
                ctx, turn, agent, response.tool_calls, control, messages
            )
            if handoff is not None:
                return AgentResult(None, messages[1:], handoff)
            continue
        if agent.output_schema is None:
            return AgentResult(response.content, messages[1:])
        value, problems = parse_output(response.content, agent.output_schema)
        if not problems:
            return AgentResult(value, messages[1:])
        if repairs >= ctx.options.repair_turns:
            reason = f"{agent.name}'s answer still fails its output schema: {'; '.join(problems)}"
            raise AgentFailed(agent.id, reason, "invalid_output")
        repairs += 1
        await _ask_for_repair(ctx, turn, agent, problems, messages)
    raise AgentFailed(
        agent.id,
        f"{agent.name} used all {agent.limits.max_turns} turns without a final answer.",
        "turn_limit",
    )


def _resolve(ctx: RunContext, agent: Agent, name: str) -> ResolvedModel:
    try:
        return ctx.models.get(name)
    except KeyError as exc:
        raise AgentFailed(agent.id, str(exc.args[0] if exc.args else exc), "unknown_model") from exc


def _system_prompt(agent: Agent) -> str:
    parts = [f"You are {agent.name}." + (f" {agent.role}" if agent.role else "")]
    if agent.instructions:
        parts.append(agent.instructions)
    return "\n\n".join(parts)


def _shown(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "content": content, "tool_calls": [], "activity_key": None,
            "response": None, "simulated": False}  # fmt: skip


async def _ask_for_repair(
    ctx: RunContext, turn: Scope, agent: Agent, problems: list[str], messages: list[ChatMessage]
) -> None:
    assert agent.output_schema is not None
    prompt = repair_prompt(problems, agent.output_schema)
    error = {"message": f"{agent.name}'s answer failed its output schema; asking for a repair.",
             "error_type": "invalid_output", "activity_key": f"{turn.path}/model",
             "recoverable": True, "problems": problems}  # fmt: skip
    await ctx.emit(ERROR, turn.key("invalid-output"), turn, error)
    await ctx.emit(MESSAGE, turn.key("repair"), turn, _shown("user", prompt))
    messages.append(ChatMessage("user", prompt))


async def _run_tool_calls(
    ctx: RunContext,
    turn: Scope,
    agent: Agent,
    calls: Sequence[ToolCall],
    control: Sequence[ControlTool],
    messages: list[ChatMessage],
) -> Handoff | None:
    by_name = {c.schema.name: c for c in control}
    runs = [
        _run_one(ctx, turn.child(f"c{i}"), agent, call, by_name.get(call.name))
        for i, call in enumerate(calls)
    ]
    results = await gather_all(runs)
    handoff = None
    for call, result in zip(calls, results, strict=True):
        content = as_text(result.result) if result.ok else f"Error: {result.error}"
        messages.append(ChatMessage("tool", content, tool_call_id=call.id, name=call.name))
        tool = by_name.get(call.name)
        if handoff is None and tool is not None and tool.handoff_to and result.ok:
            arguments, _ = parse_arguments(call)
            handoff = Handoff(tool.handoff_to, str(arguments.get("reason", "")))
    return handoff


async def _run_one(
    ctx: RunContext, call_scope: Scope, agent: Agent, call: ToolCall, tool: ControlTool | None
) -> ToolResult:
    if tool is None:
        return await call_tool(ctx, call_scope, agent, call)
    recorded = ctx.recorded(call_scope.path)
    if recorded is not None:
        return tool_result_from(recorded.payload)
    arguments, problem = parse_arguments(call)
    payload = tool_call_payload(call, arguments, call_scope.path)
    await ctx.emit(TOOL_CALL, call_scope.key("call"), call_scope, payload, durable=False)
    started = ctx.clock.monotonic()
    if problem is not None:
        result = ToolResult(ok=False, error=problem)
    elif tool.run is not None:
        result = await tool.run(call_scope, call, arguments)
    else:
        result = ToolResult(ok=True, result=f"Transferred to {tool.handoff_to}.")
    await record_tool_result(ctx, call_scope, call, result, started)
    return result
