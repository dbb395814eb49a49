"""Swarm: each agent gets a ``transfer_to_<peer>`` tool per ``handoff`` edge. A transfer moves
control and the conversation: the next agent sees everything said so far, with a note of who
handed over and why. It ends when the active agent answers without handing off. Each handoff is
a hop; past ``max_hops`` the run fails with the trail of hops, so a handoff loop ends with a
clear error instead of a hang. Control handed to a person or a nested team ends the swarm with
their answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from teams.spec import Agent, TeamSpec

from ..agent import ControlTool
from ..context import RunContext, Scope
from ..errors import RunFailed
from ..events import HANDOFF
from ..interfaces import ChatMessage, ToolSchema
from ..nodes import run_node

_REASON_PARAMETERS = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "Why you hand over."}},
    "required": ["reason"],
}


async def run_swarm(
    ctx: RunContext, team: TeamSpec, scope: Scope, task: Any, prior: Sequence[ChatMessage] = ()
) -> Any:
    active = team.node(team.entry or "")
    history: list[ChatMessage] = list(prior)  # the conversation before this run, if any
    trail: list[str] = []  # who held the conversation, in order
    while active is not None:
        trail.append(active.id)
        hop_scope = scope.child(f"h{len(trail) - 1}-{active.id}", active.id)
        if not isinstance(active, Agent):  # a person or a nested team takes it from here
            return (await run_node(ctx, team, active, hop_scope, task)).output
        first_task = task if len(trail) == 1 else None
        control = transfer_tools(team, active)
        result = await run_node(ctx, team, active, hop_scope, first_task, history, control)
        if result.handoff is None:
            return result.output
        handoff = result.handoff
        event = {"from": active.id, "to": handoff.to, "reason": handoff.reason}
        await ctx.emit(HANDOFF, hop_scope.key("handoff"), hop_scope, event, durable=False)
        _check_hops(ctx, team, [*trail, handoff.to])
        target = team.node(handoff.to)
        note = f"{active.name} handed the conversation to {target.name if target else handoff.to}"
        history = [*result.conversation, ChatMessage("system", f"{note}: {handoff.reason}")]
        active = target
    raise RunFailed("A handoff went to a node that is not in the team.", "invalid_team")


def _check_hops(ctx: RunContext, team: TeamSpec, trail: list[str]) -> None:
    cap = team.limits.max_hops
    cap = ctx.options.max_hops_when_uncapped if cap is None else cap
    if len(trail) - 1 > cap:
        raise RunFailed(
            f"The agents kept handing the conversation on ({' -> '.join(trail)}) and passed "
            f"the limit of {cap} handoffs. Check the handoff descriptions, or raise the limit.",
            "handoff_loop",
        )


def transfer_tools(team: TeamSpec, agent: Agent) -> list[ControlTool]:
    tools = []
    for edge in team.edges_from(agent.id, "handoff"):
        peer = team.node(edge.target)
        if peer is None:
            continue
        about = " ".join(p for p in (peer.role, edge.description) if p)
        schema = ToolSchema(
            name=f"transfer_to_{peer.id}"[:64],
            description=f"Hand the conversation to {peer.name}. {about}".strip(),
            parameters=_REASON_PARAMETERS,
        )
        tools.append(ControlTool(schema, handoff_to=peer.id))
    return tools
