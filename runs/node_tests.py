"""Testing one agent of a draft team (the builder's "Test this agent"): the team a node test
runs is that agent alone, as the draft defines it, in a supervisor of one. It keeps the
agent's instructions, tools, output schema, limits, model and fallback models (or the offline
model), and the draft's run limits and MCP servers; it drops what needs the rest of the team
(edges, the fallback agent). The run is a real ``Run`` (``started_by`` ``node-test:<id>``), so
it has the same sandbox, credentials, budgets, quotas and audit trail as any other."""

from __future__ import annotations

import re

from teams.spec import Agent, TeamSpec
from teams.validation import Problem, error

#: ``Run.started_by`` of a node test.
STARTED_BY = "node-test:{node}"


class NotTestable(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def node_test_spec(draft: TeamSpec, node_id: str, *, offline: bool) -> TeamSpec:
    """The one-agent team that tests ``node_id`` of ``draft``; ``NotTestable`` for a node that
    is not there or is not an agent."""
    node = draft.node(node_id)
    if node is None:
        raise NotTestable(error("unknown_node", f"The team has no node {node_id!r}.", node=node_id))
    if not isinstance(node, Agent):
        kind = "a person" if node.kind == "human" else "a whole team"
        raise NotTestable(
            error(
                "not_an_agent",
                f"{node.name} is {kind}, not an agent: only an agent can be tested alone. "
                "Run the team to try it.",
                node=node_id,
            )
        )
    changes: dict[str, object] = {"fallback": None}
    if offline:
        changes.update(model="offline", fallback_models=[])
    agent = node.model_copy(update=changes)
    return TeamSpec(
        name=f"{draft.name}: test of {agent.name}"[:200],
        description=draft.description,
        pattern="supervisor",
        entry=agent.id,
        nodes=[agent],
        limits=draft.limits,
        mcp_servers=draft.mcp_servers,
    )


def in_the_draft(problem: Problem, draft: TeamSpec, node_id: str) -> Problem:
    """A problem of the one-agent team, placed where the builder shows it in the draft."""
    index = next(i for i, n in enumerate(draft.nodes) if n.id == node_id)
    path = re.sub(r"^nodes\.0(?=\.|$)", f"nodes.{index}", problem.path) if problem.path else None
    return problem.model_copy(update={"path": path})


def is_stage_after_another(draft: TeamSpec, node_id: str) -> bool:
    return draft.pattern == "pipeline" and bool(draft.edges_to(node_id, "next"))


def no_upstream(node_id: str) -> Problem:
    return error(
        "no_upstream",
        "Only a pipeline stage after another gets an upstream output; give this agent an input.",
        node=node_id,
        path="upstream",
    )
