"""The event contract: everything observable about a run is one of these.

Events are what the run page draws, what the audit trail keeps and what the journal replays
from. The engine creates them; the shell (``runs/``) numbers them (``seq``), chains their hashes,
stores them and broadcasts them. ``message.delta`` is broadcast only, never stored.

Every event has a ``key`` that is a pure function of its place in the run (agent path, turn,
call index), never of timing. Re-running the engine on the same run regenerates the same keys,
so events already recorded are recognised and not appended twice.

Payloads, by type (all keys listed are present; values may be null):

run.started        {input, team, pattern}
run.finished       {output}
run.failed         {reason, error_type}
run.cancelled      {reason}
run.waiting        {activity_key, reason}                 the run suspends (human or budget)
agent.started      {task, path}                           span of one agent working on one task
agent.finished     {output, status: "ok"|"failed", reason}
turn.started       {turn}                                 span of one model turn
message            {role, content, tool_calls, activity_key, response, simulated}
                   role "assistant": the model's answer; ``response`` is the recorded
                   ModelResponse (the journal replays it); "user"/"system": input shown to it
message.delta      {text}                                 streamed tokens (ephemeral)
tool.call          {tool, arguments, call_id, activity_key}
tool.result        {tool, call_id, ok, result, error, activity_key, duration_ms}
delegation         {to, task, call_id}
handoff            {from, to, reason}
gate.passed        {edge, gate, attempt, feedback}
gate.failed        {edge, gate, attempt, feedback, will_retry}
retry              {activity_key, attempt, error, delay_s}
fallback           {from, to, reason}
human.requested    {activity_key, node, prompt, answer_schema, kind: "human"|"budget"}
human.answered     {activity_key, answer, by}
usage              {model, input_tokens, output_tokens, cost_usd, totals: {run, agent}}
budget.warning     {scope: "run"|"agent", name, used, limit, unit: "tokens"|"usd"}
error              {message, error_type, activity_key, recoverable}
activity.failed    {activity_key, error, error_type, transient}   a recorded failed attempt
sla.breached       {priority, deadline_s, elapsed_s}      the run passed the service level its
                   input asked for (``priority`` + ``sla``, see ``sla.py``); it goes on
                   unless the team escalates
sla.escalated      {priority, deadline_s, elapsed_s, hand_to, hand_to_name, raised_priority,
                   notify_webhooks}   right after ``sla.breached`` when the team declares an
                   escalation for the priority (``TeamSpec.sla``): ``hand_to`` (a node id, or
                   null) took the work over, ``raised_priority`` (or null) is the run's
                   priority from then on, ``notify_webhooks``: the team's webhooks are told
rate_limit.waiting {activity_key, model, attempt, wait_s, paused}   a model call waits for
                   capacity under its credential's rate limit (``paused``: after a 429); the
                   wait does not count against the agent's deadline
circuit.waiting    {activity_key, model, attempt, wait_s, probing}   an agent's last model
                   (its only one, or the end of its chain) waits for its credential's open
                   circuit to half-open (``probing``: another call is probing it); the wait does
                   not count against the agent's deadline, only against the run's
conversation.summarised {summary, covers, messages_summarised, messages_kept, window_tokens}
                   a conversation turn's history overflowed its window: the oldest messages
                   (and the summary the input brought) were summarised by the team's model;
                   ``covers`` counts the conversation's messages the summary stands for
                   (``conversation.py``)

Added by the engine (additive, optional for readers):
- ``tool.result`` also has ``artifacts`` (the references a tool returned);
- ``human.requested`` of kind "human" also has ``task`` (what the node was given); of kind
  "budget" also ``scopes`` (the budgets reached: "run", "agent:<id>");
- ``error`` for invalid structured output (``error_type: invalid_output``) also has ``problems``;
- ``activity.failed`` also has ``status`` (the HTTP status, when there was one) and
  ``retry_after_s`` (how long the server asked to wait, when it said);
- ``message`` of role "assistant" also has ``model``: the name of the model that answered;
- ``fallback`` also has ``kind``: absent for an agent's fallback agent, ``"model"`` when the
  next model of an agent's ``fallback_models`` answers a turn (``from``/``to`` are model names,
  ``activity_key`` the call that kept failing; the next model's call is ``<turn>/model~<n>``).
Keys: see docs/engine.md ("Keys, spans and the journal").
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

RUN_STARTED = "run.started"
RUN_FINISHED = "run.finished"
RUN_FAILED = "run.failed"
RUN_CANCELLED = "run.cancelled"
RUN_WAITING = "run.waiting"
AGENT_STARTED = "agent.started"
AGENT_FINISHED = "agent.finished"
TURN_STARTED = "turn.started"
MESSAGE = "message"
MESSAGE_DELTA = "message.delta"
TOOL_CALL = "tool.call"
TOOL_RESULT = "tool.result"
DELEGATION = "delegation"
HANDOFF = "handoff"
GATE_PASSED = "gate.passed"
GATE_FAILED = "gate.failed"
RETRY = "retry"
FALLBACK = "fallback"
HUMAN_REQUESTED = "human.requested"
HUMAN_ANSWERED = "human.answered"
USAGE = "usage"
BUDGET_WARNING = "budget.warning"
ERROR = "error"
ACTIVITY_FAILED = "activity.failed"
SLA_BREACHED = "sla.breached"
SLA_ESCALATED = "sla.escalated"
RATE_LIMIT_WAITING = "rate_limit.waiting"
CIRCUIT_WAITING = "circuit.waiting"
CONVERSATION_SUMMARISED = "conversation.summarised"

EVENT_TYPES: frozenset[str] = frozenset(
    {
        RUN_STARTED,
        RUN_FINISHED,
        RUN_FAILED,
        RUN_CANCELLED,
        RUN_WAITING,
        AGENT_STARTED,
        AGENT_FINISHED,
        TURN_STARTED,
        MESSAGE,
        MESSAGE_DELTA,
        TOOL_CALL,
        TOOL_RESULT,
        DELEGATION,
        HANDOFF,
        GATE_PASSED,
        GATE_FAILED,
        RETRY,
        FALLBACK,
        HUMAN_REQUESTED,
        HUMAN_ANSWERED,
        USAGE,
        BUDGET_WARNING,
        ERROR,
        ACTIVITY_FAILED,
        SLA_BREACHED,
        SLA_ESCALATED,
        RATE_LIMIT_WAITING,
        CIRCUIT_WAITING,
        CONVERSATION_SUMMARISED,
    }
)

#: Broadcast to watchers but never stored: one per streamed token chunk.
EPHEMERAL_TYPES: frozenset[str] = frozenset({MESSAGE_DELTA})

#: Types that end a run; exactly one of them is the last stored event of a finished run.
TERMINAL_TYPES: frozenset[str] = frozenset({RUN_FINISHED, RUN_FAILED, RUN_CANCELLED})


@dataclass(frozen=True)
class Event:
    type: str
    key: str
    ts: float
    agent: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        return cls(
            type=data["type"],
            key=data["key"],
            ts=data["ts"],
            agent=data.get("agent"),
            span_id=data.get("span_id"),
            parent_span_id=data.get("parent_span_id"),
            payload=data.get("payload") or {},
        )


def span_id_for(path: str) -> str:
    """A span id that is a pure function of its place in the run, so replays reuse it."""
    return hashlib.sha256(path.encode()).hexdigest()[:16]


_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)  # made once: ``json.dumps`` with options makes a new encoder every call


def canonical_json(data: Any) -> str:
    """The byte-stable JSON form hashed by the audit chain."""
    return _canonical.encode(data)


def canonical_object(members: dict[str, str]) -> str:
    """``canonical_json`` of an object whose members' values are given already in canonical
    JSON (so a large one, an event's payload, is serialized once for several uses)."""
    return "{" + ",".join(f"{_canonical.encode(k)}:{v}" for k, v in sorted(members.items())) + "}"


def chain_hash(previous_hash: str, event_fields: dict[str, Any]) -> str:
    """sha256 over the previous event's hash and this event's canonical JSON."""
    return chain_hash_json(previous_hash, canonical_json(event_fields))


def chain_hash_json(previous_hash: str, event_json: str) -> str:
    """``chain_hash`` given the event's canonical JSON."""
    return hashlib.sha256((previous_hash + event_json).encode()).hexdigest()
