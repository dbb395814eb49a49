"""The three patterns. Each runs one team level; a team node nests another level (hybrids)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from teams.spec import TeamSpec

from ..context import RunContext, Scope
from ..errors import RunFailed
from ..interfaces import ChatMessage
from .pipeline import run_pipeline
from .supervisor import run_supervisor
from .swarm import run_swarm

_PATTERNS = {"supervisor": run_supervisor, "pipeline": run_pipeline, "swarm": run_swarm}


async def run_pattern(
    ctx: RunContext,
    team: TeamSpec,
    scope: Scope,
    task: Any,
    history: Sequence[ChatMessage] = (),
) -> Any:
    """Run one team on ``task`` and return its output; ``history`` (a conversation so far,
    ``conversation.py``) goes to the entry node as the messages before the task."""
    if not team.entry or team.node(team.entry) is None:
        raise RunFailed(
            f"Team {team.name!r} has no entry node: mark the node where the run starts.",
            "invalid_team",
        )
    return await _PATTERNS[team.pattern](ctx, team, scope, task, history)
