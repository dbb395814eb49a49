"""Activities: the side effects with an uncertain result (model calls, tool calls, human
answers). Each has a deterministic key; its result is recorded as an event under that key, and a
recorded result is taken instead of performing the activity again. Failed attempts are recorded
too (``activity.failed``), so a resumed run takes the same path through retries.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from teams.spec import Agent, HumanNode

from .concurrency import extend_deadlines, run_time_left
from .context import RunContext, Scope
from .errors import AgentFailed, Suspended
from .events import (
    ACTIVITY_FAILED,
    CIRCUIT_WAITING,
    ERROR,
    FALLBACK,
    HUMAN_REQUESTED,
    MESSAGE,
    MESSAGE_DELTA,
    RATE_LIMIT_WAITING,
    RETRY,
    RUN_WAITING,
    TOOL_CALL,
    TOOL_RESULT,
)
from .interfaces import (
    ModelError,
    ModelRequest,
    ModelResponse,
    ResolvedModel,
    ToolCall,
    ToolContext,
    ToolResult,
    Usage,
    answer_key,
)
from .retries import backoff_delay


async def call_model(
    ctx: RunContext,
    turn: Scope,
    agent: Agent,
    models: Sequence[ResolvedModel],
    request: ModelRequest,
) -> ModelResponse:
    """One model turn: recorded result, or the provider with retries on transient errors;
    when those outlast the retries, the next model of the agent's chain (``fallback_models``)
    answers, each switch a ``fallback`` event."""
    await ctx.budgets.before_call(ctx, turn, agent, model_key(turn, 0))
    for index, model in enumerate(models):
        key = model_key(turn, index)
        request = dataclasses.replace(request, model=model.model)
        more = index + 1 < len(models)
        if more and await _skipped(ctx, key, model):
            await _fall_back(ctx, turn, key, model, models[index + 1], None)
            continue
        try:
            response = await _answer(ctx, turn, agent, model, request, key, more)
        except _Exhausted as exhausted:
            await _fall_back(ctx, turn, key, model, models[index + 1], exhausted.error)
            continue
        await ctx.budgets.record(ctx, turn, agent, model, response.usage, key)
        return response
    raise AssertionError("an agent has at least one model")  # the last one raises AgentFailed


def model_key(turn: Scope, index: int) -> str:
    """The activity key of a turn's call to the ``index``-th model of the chain."""
    return f"{turn.path}/model" if index == 0 else f"{turn.path}/model~{index}"


class _Exhausted(Exception):
    """A model's retryable failures outlasted its retries, and another model may answer."""

    def __init__(self, error: ModelError) -> None:
        super().__init__(str(error))
        self.error = error


async def _answer(
    ctx: RunContext,
    turn: Scope,
    agent: Agent,
    model: ResolvedModel,
    request: ModelRequest,
    key: str,
    more: bool,
) -> ModelResponse:
    recorded = ctx.recorded(key)
    response = _response_from(recorded.payload["response"]) if recorded else None
    attempt = 1
    while response is None:
        ctx.check_cancelled()
        try:
            response = await _attempt(ctx, turn, agent, model, request, key, attempt, more)
        except ModelError as error:
            if more and error.transient and await _opened(ctx, model, key, attempt):
                raise _Exhausted(error) from None
            await _retry_or_fail(ctx, turn, agent, key, attempt, error, more)
            attempt += 1
    return response


async def _opened(ctx: RunContext, model: ResolvedModel, key: str, attempt: int) -> bool:
    """Whether the model's circuit opened during its retries (not when replaying a retry
    already recorded: a resumed run takes the recorded path)."""
    if model.circuit is None or ctx.recorded(f"{key}#retry{attempt}") is not None:
        return False
    return not await model.circuit.allows()


async def _skipped(ctx: RunContext, key: str, model: ResolvedModel) -> bool:
    """Whether the turn goes past ``model`` without calling it: it did so before (a resumed
    run takes the recorded path), or its credential's circuit is open."""
    if ctx.recorded(key) is not None:
        return False
    if ctx.recorded(f"{key}:fallback") is not None:
        return True
    return model.circuit is not None and not await model.circuit.allows()


async def _fall_back(
    ctx: RunContext,
    turn: Scope,
    key: str,
    failed: ResolvedModel,
    next_model: ResolvedModel,
    error: ModelError | None,
) -> None:
    """Records the switch; ``error`` None means the model's circuit was open."""
    fallback_key = f"{key}:fallback"
    if ctx.recorded(fallback_key) is None:
        why = (
            f"kept failing: {error}"
            if error is not None
            else "was not called: its circuit is open after repeated failures"
        )
        payload = {
            "kind": "model",
            "from": failed.name,
            "to": next_model.name,
            "reason": f"The model {failed.name} {why}",
            "circuit_open": error is None,
            "activity_key": key,
        }
        await ctx.emit(FALLBACK, fallback_key, turn, payload)


async def _attempt(
    ctx: RunContext,
    turn: Scope,
    agent: Agent,
    model: ResolvedModel,
    request: ModelRequest,
    key: str,
    attempt: int,
    more: bool,
) -> ModelResponse:
    failed = ctx.recorded(f"{key}#failed{attempt}")
    if failed is not None:
        p = failed.payload
        raise ModelError(
            p["error"],
            transient=p["transient"],
            status=p.get("status"),
            retry_after_s=p.get("retry_after_s"),
        )
    chunks = 0

    async def on_delta(text: str) -> None:
        nonlocal chunks
        chunks += 1
        await ctx.emit_ephemeral(
            MESSAGE_DELTA, f"{key}#delta{attempt}.{chunks}", turn, {"text": text}
        )

    request = dataclasses.replace(request, activity_key=key, attempt=attempt)
    slot = None  # the wait for the rate-limit slot, when reserved with the circuit's check
    if not more:  # a model with a fallback skips an open circuit instead (``_skipped``)
        circuit, limit, refused = model.circuit, model.rate_limit, False
        if circuit is not None and limit is not None:
            slot = await circuit.allows_and_reserve(limit, estimated_tokens(request))
            refused = slot is None
        if slot is None:
            await _wait_for_circuit(ctx, turn, agent, model, key, attempt, refused=refused)
    await _wait_for_capacity(ctx, turn, model, request, key, attempt, slot)
    try:
        response = await model.provider.complete(request, on_delta)
    except ModelError as error:
        if error.transient and error.status != 429 and model.circuit is not None:
            # A 429 is the limiter's to handle (it pauses the credential): only outages
            # (5xx, timeouts, no connection) open the circuit, which stops every run's calls.
            await model.circuit.record(False)
        if error.status == 429 and model.rate_limit is not None:
            # Everyone using the credential waits as long as the server asked.
            await model.rate_limit.pause(error.retry_after_s or _PAUSE_WITHOUT_RETRY_AFTER_S)
        payload = {
            "activity_key": key,
            "error": str(error),
            "error_type": "model_error",
            "transient": error.transient,
            "status": error.status,
            "retry_after_s": error.retry_after_s,
        }
        await ctx.emit(ACTIVITY_FAILED, f"{key}#failed{attempt}", turn, payload)
        raise
    if model.circuit is not None:
        await model.circuit.record(True)
    if response.exhausted_for_s and model.rate_limit is not None:
        await model.rate_limit.pause(response.exhausted_for_s)
    simulated = response.simulated or model.simulated
    message = {
        "role": "assistant",
        "content": response.content,
        "tool_calls": [_call_dict(c) for c in response.tool_calls],
        "activity_key": key,
        "response": _response_dict(response),
        "simulated": simulated,
        "model": model.name,  # which model answered the turn (another after a fallback)
    }
    # Not waited for: the next activity's announcement stores it first (``announce``).
    await ctx.emit(MESSAGE, key, turn, message, durable=False, result=True)
    return response


#: How long a 429 without ``Retry-After`` pauses its credential.
_PAUSE_WITHOUT_RETRY_AFTER_S = 1.0


async def _wait_for_capacity(
    ctx: RunContext,
    turn: Scope,
    model: ResolvedModel,
    request: ModelRequest,
    key: str,
    attempt: int,
    slot: float | None = None,
) -> None:
    """Waits for the slot the credential's rate limit gives this call (``slot``: the wait
    for the one already reserved); a wait is on the timeline and pushes the agent's deadline
    back by as much. A slot that falls inside a pause (another call's 429 while this one
    waited) is given up for one after it."""
    if model.rate_limit is None:
        return
    tokens = estimated_tokens(request)
    waits = 0
    wait = slot if slot is not None else await model.rate_limit.reserve(tokens)
    while wait > 0:
        waits += 1
        paused = await model.rate_limit.paused_for() > 0
        payload = {"activity_key": key, "model": model.name, "attempt": attempt,
                   "wait_s": round(wait, 3), "paused": paused}  # fmt: skip
        # Not waited for: a crowd of waiting calls should not queue on the database too.
        await ctx.emit(
            RATE_LIMIT_WAITING, f"{key}#wait{attempt}.{waits}", turn, payload, durable=False
        )
        extend_deadlines(wait)
        await ctx.clock.sleep(wait)
        ctx.check_cancelled()
        if await model.rate_limit.paused_for() <= 0:
            return
        wait = await model.rate_limit.reserve(tokens)


#: How often a call waiting for a half-open circuit looks again while another call probes it.
_PROBE_POLL_S = 0.5


async def _wait_for_circuit(
    ctx: RunContext,
    turn: Scope,
    agent: Agent,
    model: ResolvedModel,
    key: str,
    attempt: int,
    refused: bool = False,
) -> None:
    """An agent's last model is not called while its credential's circuit is open: the call
    waits for the half-open moment, on the timeline and not against the agent's deadline (the
    run's still bounds it); when that moment comes after the run's deadline, the agent fails
    at once, saying why, instead of waiting for nothing. ``refused``: the circuit has just
    refused this call (``allows_and_reserve``), so it is not asked again before a wait."""
    if model.circuit is None:
        return
    waits = 0
    while refused or not await model.circuit.allows():
        refused = False
        cooling = await model.circuit.open_for()
        wait = cooling or _PROBE_POLL_S
        left = run_time_left(ctx.clock)
        if left is not None and wait >= left:
            raise AgentFailed(
                agent.id,
                f"{agent.name} could not call the model {model.name}: its circuit is open after "
                f"repeated failures and half-opens in {wait:.0f} s, after the run's deadline "
                f"({max(left, 0):.0f} s left). Give the agent fallback models, or run it again "
                "later.",
                "circuit_open",
            )
        if cooling or waits == 0:  # not one event per look while another call probes
            payload = {"activity_key": key, "model": model.name, "attempt": attempt,
                       "wait_s": round(wait, 3), "probing": not cooling}  # fmt: skip
            await ctx.emit(
                CIRCUIT_WAITING, f"{key}#circuit{attempt}.{waits}", turn, payload, durable=False
            )
        waits += 1
        extend_deadlines(wait, but_the_runs=True)
        await ctx.clock.sleep(wait)
        ctx.check_cancelled()


def estimated_tokens(request: ModelRequest) -> int:
    """What a call will take of a tokens-per-minute budget, before it is made: about four
    characters a token of what it sends."""
    sent = sum(len(str(m.content or "")) for m in request.messages)
    return max(1, sent // 4)


async def _retry_or_fail(
    ctx: RunContext,
    turn: Scope,
    agent: Agent,
    key: str,
    attempt: int,
    error: ModelError,
    more: bool = False,
) -> None:
    """Waits before the next attempt; raises ``_Exhausted`` when the retries of a transient
    error are used up and ``more`` models follow, ``AgentFailed`` when nothing is left."""
    retries_left = agent.limits.max_retries - (attempt - 1)
    if error.transient and retries_left <= 0 and more:
        raise _Exhausted(error)
    if not error.transient or retries_left <= 0:
        why = "after retries" if error.transient else "(not retryable)"
        reason = f"The model call failed {why}: {error}"
        await ctx.emit(ERROR, f"{key}:error", turn, _error(reason, key, recoverable=False))
        raise AgentFailed(agent.id, reason, "model_error")
    options = ctx.options
    delay = backoff_delay(ctx.seed, key, attempt, options.retry_base_s, options.retry_cap_s)
    # A server that said when to come back (Retry-After) is not asked again sooner.
    delay = max(delay, error.retry_after_s or 0.0)
    retry_key = f"{key}#retry{attempt}"
    if ctx.recorded(retry_key) is None:
        retry = {"activity_key": key, "attempt": attempt + 1, "error": str(error), "delay_s": delay}
        await ctx.emit(RETRY, retry_key, turn, retry)
        await ctx.clock.sleep(delay)


def _error(message: str, key: str | None, *, recoverable: bool, kind: str = "model_error") -> dict:
    return {"message": message, "error_type": kind, "activity_key": key, "recoverable": recoverable}


def _call_dict(call: ToolCall) -> dict[str, str]:
    return {"id": call.id, "name": call.name, "arguments": call.arguments}


def _response_dict(response: ModelResponse) -> dict[str, Any]:
    """The recorded form of a response (``_response_from`` reads it back)."""
    return {
        "content": response.content,
        "tool_calls": [_call_dict(c) for c in response.tool_calls],
        "usage": {
            "input_tokens": response.usage.input_tokens,
            "output_tokens": response.usage.output_tokens,
            "cached_input_tokens": response.usage.cached_input_tokens,
            "cache_write_tokens": response.usage.cache_write_tokens,
        },
        "finish_reason": response.finish_reason,
        "simulated": response.simulated,
    }


def _response_from(data: dict[str, Any]) -> ModelResponse:
    return ModelResponse(
        content=data.get("content"),
        tool_calls=tuple(ToolCall(**c) for c in data.get("tool_calls", ())),
        usage=Usage(**data.get("usage", {})),
        finish_reason=data.get("finish_reason", "stop"),
        simulated=data.get("simulated", False),
    )


async def call_tool(ctx: RunContext, call_scope: Scope, agent: Agent, call: ToolCall) -> ToolResult:
    """A registry tool: recorded result, or the tool itself. Bad arguments are the agent's to fix."""
    key = call_scope.path
    recorded = ctx.recorded(key)
    if recorded is not None:
        return tool_result_from(recorded.payload)
    arguments, problem = parse_arguments(call)
    # Durable before the tool runs: a tool may act on the world, and the audit trail then
    # shows the call even if the process dies before its result is recorded.
    await ctx.emit(
        TOOL_CALL, call_scope.key("call"), call_scope, tool_call_payload(call, arguments, key)
    )
    ctx.check_cancelled()
    started = ctx.clock.monotonic()
    if problem is not None:
        result = ToolResult(ok=False, error=problem)
    elif call.name not in agent.tools:
        result = ToolResult(ok=False, error=f"{agent.name} has no tool named {call.name!r}.")
    else:
        context = ToolContext(ctx.run_id, agent.id, ctx.artifacts, ctx.tool_settings)
        result = await ctx.tools.call(call.name, arguments, context)
    await record_tool_result(ctx, call_scope, call, result, started)
    return result


async def record_tool_result(
    ctx: RunContext, call_scope: Scope, call: ToolCall, result: ToolResult, started: float
) -> None:
    payload = {
        "tool": call.name,
        "call_id": call.id,
        "ok": result.ok,
        "result": result.result,
        "error": result.error,
        "activity_key": call_scope.path,
        "duration_ms": round((ctx.clock.monotonic() - started) * 1000, 3),
        "artifacts": list(result.artifacts),
    }
    await ctx.emit(TOOL_RESULT, call_scope.path, call_scope, payload, durable=False, result=True)


def tool_call_payload(call: ToolCall, arguments: dict[str, Any], key: str) -> dict[str, Any]:
    return {"tool": call.name, "arguments": arguments, "call_id": call.id, "activity_key": key}


def tool_result_from(payload: dict[str, Any]) -> ToolResult:
    return ToolResult(
        ok=payload["ok"],
        result=payload.get("result"),
        error=payload.get("error"),
        artifacts=tuple(payload.get("artifacts") or ()),
    )


def parse_arguments(call: ToolCall) -> tuple[dict[str, Any], str | None]:
    """Model-written arguments are untrusted text; a problem goes back to the model to fix."""
    try:
        arguments = json.loads(call.arguments or "{}")
    except json.JSONDecodeError as exc:
        return (
            {},
            f"The arguments for {call.name} were not valid JSON ({exc.msg}); send a JSON object.",
        )
    if not isinstance(arguments, dict):
        return {}, f"The arguments for {call.name} must be a JSON object."
    return arguments, None


async def ask_human(ctx: RunContext, scope: Scope, node: HumanNode, task: Any) -> Any:
    """The person's recorded answer, or suspend the run until they give one."""
    key = f"{scope.path}/human"
    answered = ctx.recorded(answer_key(key))
    if answered is not None:
        return answered.payload.get("answer")
    requested = ctx.recorded(key)
    waited = ctx.clock.now() - requested.ts if requested else 0.0
    if node.timeout_s is not None and waited >= node.timeout_s:
        reason = f"{node.name} did not answer within {node.timeout_s:g} s."
        raise AgentFailed(node.id, reason, "human_timeout")
    prompt = node.prompt or f"{node.name}, please answer."
    request = {
        "activity_key": key,
        "node": node.id,
        "prompt": prompt,
        "answer_schema": node.answer_schema,
        "kind": "human",
        "task": task,
    }
    await ctx.emit(HUMAN_REQUESTED, key, scope, request)
    reason = f"Waiting for {node.name} to answer: {prompt}"
    await ctx.emit(RUN_WAITING, f"{key}:waiting", scope, {"activity_key": key, "reason": reason})
    wake_after_s = None if node.timeout_s is None else node.timeout_s - waited
    raise Suspended(key, reason, wake_after_s)
