"""The inbox in the JSON API: every question waiting for a person, across the runs the caller
may see (answers go to ``POST /api/runs/{id}/answer``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from workspaces.operations import requires

from .inbox import questions_for

router = Router(tags=["runs"])


class QuestionOut(Schema):
    run_id: str
    run_url: str = Field(description="The run's page, where the question is answered.")
    team_name: str
    prompt: str
    node: str = Field(description="The id of the human node (or agent) that asks.")
    node_name: str = Field(description="That node's name in the builder (its id when unnamed).")
    activity_key: str
    answer_schema: dict[str, Any] | None = None
    asked_at: datetime
    wake_at: datetime | None = Field(
        None, description="When the question fails as unanswered, if it has a timeout."
    )
    started_by: str = Field(
        description="Who started the run: a username, or 'schedule:<id>' / 'trigger:<id>'."
    )


class InboxOut(Schema):
    count: int
    questions: list[QuestionOut]


@router.get("/inbox", response=InboxOut, url_name="inbox")
@requires(None)  # every workspace where the caller may answer (run.answer), filtered below
def inbox(request: HttpRequest) -> Any:
    """Questions waiting for a person, oldest first."""
    questions = questions_for(request.auth)
    return {
        "count": len(questions),
        "questions": [{**q.__dict__, "run_url": q.run_url} for q in questions],
    }
