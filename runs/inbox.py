"""The inbox: every question a person may answer, across the runs they can see, in three
queries whatever the number of waiting runs (the runs, their requests, their answers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .engine.events import HUMAN_REQUESTED
from .engine.interfaces import answer_key
from .models import Run, RunEvent, agent_names

# The inbox lists at most this many questions, the oldest first: past that, a person has more
# to do than a page shows, and the count in the top bar still says how many.
INBOX_LIMIT = 200


@dataclass(frozen=True)
class Question:
    run_id: str
    team_name: str
    prompt: str
    node: str
    node_name: str  # what people named the node in the builder; its id when unnamed
    activity_key: str
    answer_schema: dict[str, Any] | None
    asked_at: datetime
    wake_at: datetime | None
    started_by: str

    @property
    def run_url(self) -> str:
        return f"/runs/{self.run_id}/"


def waiting_runs(user: Any) -> Any:
    return Run.objects.for_user(user, "run.answer").filter(status=Run.Status.WAITING)


def questions_for(user: Any) -> list[Question]:
    """The unanswered ``human.requested`` of every waiting run ``user`` may answer (in every
    workspace where their role holds ``run.answer``), oldest first."""
    waiting = waiting_runs(user).select_related("owner").order_by("created_at")[:INBOX_LIMIT]
    runs = {run.id: run for run in waiting}
    if not runs:
        return []
    answered = set(
        RunEvent.objects.filter(run_id__in=runs, key__endswith="#answered").values_list(
            "run_id", "key"
        )
    )
    requests = RunEvent.objects.filter(run_id__in=runs, type=HUMAN_REQUESTED).order_by("ts", "seq")
    questions = []
    names: dict[Any, dict[str, str]] = {}
    for event in requests:
        key = event.payload.get("activity_key") or ""
        if (event.run_id, answer_key(key)) in answered:
            continue
        run = runs[event.run_id]
        node = str(event.payload.get("node") or event.agent or "")
        if run.id not in names:
            names[run.id] = agent_names(run.spec)
        questions.append(
            Question(
                run_id=str(run.id),
                team_name=run.team_name,
                prompt=str(event.payload.get("prompt") or ""),
                node=node,
                node_name=names[run.id].get(node, node),
                activity_key=key,
                answer_schema=event.payload.get("answer_schema"),
                asked_at=event.ts,
                wake_at=run.wake_at,
                started_by=run.started_by or (run.owner.username if run.owner_id else ""),
            )
        )
    return questions


def inbox_count(user: Any) -> int:
    """How many questions wait for ``user`` (the top bar's figure)."""
    return len(questions_for(user))
