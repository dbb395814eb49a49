"""A conversation turn: a run whose input is ``{"message": ..., "history": [...]}`` carries
the conversation so far to the entry agent, as prior messages before the new one.

The history is bounded by tokens (about four characters a token, as the rate limiter counts):
when it does not fit ``window_tokens``, the oldest messages are folded, with the summary the
input brought along, into a new summary written by the entry agent's model. That call is an
activity like any other (recorded, never made twice), and the summary is recorded as a
``conversation.summarised`` event, so the next turn starts from it (``covers`` counts the
conversation's messages it stands for).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from teams.spec import Agent, TeamSpec

from .activities import call_model
from .context import RunContext
from .errors import AgentFailed, RunFailed
from .events import CONVERSATION_SUMMARISED
from .interfaces import ChatMessage, ModelRequest
from .scope import ROOT

#: The window when the input names none.
DEFAULT_WINDOW_TOKENS = 3000

SUMMARY_PROMPT = (
    "You keep the memory of a conversation between a user and an assistant. Summarise it in a "
    "few sentences: what the user wants, the facts and decisions so far, and what is still "
    "open. Write only the summary."
)


class PriorMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str


class Summary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    covers: int = Field(ge=0, description="How many of the conversation's messages it stands for.")


class ConversationTurn(BaseModel):
    """The run input of one turn of a conversation."""

    model_config = ConfigDict(extra="forbid")

    message: str
    history: list[PriorMessage]
    summary: Summary | None = None
    window_tokens: int = Field(DEFAULT_WINDOW_TOKENS, ge=1)


@dataclass(frozen=True)
class Prepared:
    task: str
    history: tuple[ChatMessage, ...]


def parse_turn(task_input: Any) -> ConversationTurn | None:
    """The conversation turn ``task_input`` is, or None for any other input."""
    if not isinstance(task_input, dict) or not {"message", "history"} <= task_input.keys():
        return None
    try:
        return ConversationTurn.model_validate(task_input)
    except ValidationError:
        return None


def tokens_of(text: str) -> int:
    return max(1, len(text) // 4)


async def prepare(ctx: RunContext, spec: TeamSpec, turn: ConversationTurn) -> Prepared:
    """The entry agent's task and prior messages, the history summarised if it overflows."""
    budget = turn.window_tokens - tokens_of(turn.message)
    if turn.summary is not None:
        budget -= tokens_of(turn.summary.text)
    kept = 0
    for message in reversed(turn.history):  # the newest messages that fit stay word for word
        cost = tokens_of(message.content)
        if cost > budget:
            break
        budget -= cost
        kept += 1
    folded = turn.history[: len(turn.history) - kept]
    summary = turn.summary
    if folded:
        summary = await _summarise(ctx, spec, turn, folded)
    prior = [ChatMessage(m.role, m.content) for m in turn.history[len(folded) :]]
    if summary is not None:
        # The user's side, never the system's: the summary is a model's rewording of what
        # users wrote, or whatever the run's input says (a published team's caller writes
        # that input), and the providers fold system messages into the team's instructions.
        note = f"Summary of the conversation before the messages that follow: {summary.text}"
        prior.insert(0, ChatMessage("user", note))
    return Prepared(turn.message, tuple(prior))


async def _summarise(
    ctx: RunContext, spec: TeamSpec, turn: ConversationTurn, folded: list[PriorMessage]
) -> Summary:
    agent = _summariser(spec)
    scope = ROOT.child("conversation", agent.id)
    lines = [f"Summary so far: {turn.summary.text}"] if turn.summary else []
    lines += [f"{m.role}: {m.content}" for m in folded]
    request = ModelRequest(
        agent.model,
        (ChatMessage("system", SUMMARY_PROMPT), ChatMessage("user", "\n\n".join(lines))),
    )
    try:
        models = [ctx.models.get(name) for name in (agent.model, *agent.fallback_models)]
    except KeyError as exc:
        raise AgentFailed(agent.id, str(exc.args[0] if exc.args else exc), "unknown_model") from exc
    response = await call_model(ctx, scope, agent, models, request)
    covers = (turn.summary.covers if turn.summary else 0) + len(folded)
    summary = Summary(text=str(response.content or "").strip(), covers=covers)
    payload = {
        "summary": summary.text,
        "covers": covers,
        "messages_summarised": len(folded),
        "messages_kept": len(turn.history) - len(folded),
        "window_tokens": turn.window_tokens,
    }
    await ctx.emit(CONVERSATION_SUMMARISED, scope.key("summarised"), scope, payload)
    return summary


def _summariser(spec: TeamSpec) -> Agent:
    """The team's model: the entry agent's, or the first agent's when the entry is not one."""
    entry = spec.node(spec.entry or "")
    if isinstance(entry, Agent):
        return entry
    for node in spec.nodes:
        if isinstance(node, Agent):
            return node
    raise RunFailed(
        f"Team {spec.name!r} has no agent whose model could summarise the conversation so far; "
        "add one, or start a new conversation.",
        "invalid_team",
    )
