"""``POST /api/teams/{id}/nodes/{node_id}/test``: run one agent of the draft in the builder,
unsaved, with the input typed (or, for a pipeline stage, the upstream output given). The test
is a real run (``runs.node_tests``): it is queued, executed, streamed over the run's websocket
and audited like any other, under the same quotas and budgets."""

from __future__ import annotations

from typing import Any, Literal

from django.db import transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from teams.api import get_team
from teams.services import SpecRejected, check, parse_document, unstorable
from teams.spec import dump
from workspaces.operations import requires

from .actions import admitted_run
from .api import ProblemsOut, get_run
from .execution import enqueue
from .node_tests import (
    STARTED_BY,
    NotTestable,
    in_the_draft,
    is_stage_after_another,
    no_upstream,
    node_test_spec,
)
from .serializers import RunOut, run_out

router = Router(tags=["runs"])


class NodeTestIn(Schema):
    spec: dict[str, Any] = Field(
        ..., description="The draft TeamSpec as it is in the builder; it is not saved."
    )
    input: Any = Field("", description="The task typed for the agent.")
    upstream: Any = Field(
        None,
        description="For a pipeline stage after another: what the stage before it produced "
        "(for a join, an object of outputs by stage id). The stage gets it as its task, as it "
        "would in a run, instead of `input`.",
    )
    model: Literal["node", "offline"] = Field(
        "node",
        description="`node`: the agent's own model and fallback models; `offline`: the "
        "deterministic simulator, which costs nothing.",
    )


@router.post(
    "/teams/{team_id}/nodes/{node_id}/test",
    response={201: RunOut, 422: ProblemsOut},
    url_name="team-node-test",
    summary="Test one agent of a draft team",
)
@requires("team.edit")  # testing a draft is building; starting its run also needs run.start
def test_node(request: HttpRequest, team_id: int, node_id: str, body: NodeTestIn) -> Any:
    """Runs the agent ``node_id`` of the draft ``spec`` alone, as a run flagged
    ``started_by: node-test:<node_id>``; watch it at ``/ws/runs/<id>/`` or
    ``/api/runs/<id>/events``. 422 when the draft does not parse, the node is not an agent,
    or the agent has problems (located in the draft); 429 when a quota is reached."""
    team = get_team(request, team_id)
    draft = parse_document(body.spec)
    try:
        single = node_test_spec(draft, node_id, offline=body.model == "offline")
    except NotTestable as exc:
        return Status(422, {"detail": exc.problem.message, "problems": [exc.problem.model_dump()]})
    problems = [
        in_the_draft(p, draft, node_id)
        for p in check(single, team.workspace, team.pk)
        if p.severity == "error"
    ]
    if body.upstream is not None and not is_stage_after_another(draft, node_id):
        problems.append(no_upstream(node_id))
    for name in ("input", "upstream"):
        if (bad := unstorable(getattr(body, name))) is not None:
            problems.append(
                bad.model_copy(update={"path": ".".join(filter(None, [name, bad.path]))})
            )
    if problems:
        raise SpecRejected(problems, f"{single.nodes[0].name} cannot be tested as it is.")
    task = body.upstream if body.upstream is not None else body.input
    with transaction.atomic():
        run = admitted_run(
            request.auth, team, dump(single), task,
            team_name=single.name, started_by=STARTED_BY.format(node=node_id),
        )  # fmt: skip
        enqueue(run)
    return Status(201, run_out(get_run(request, str(run.id))))
