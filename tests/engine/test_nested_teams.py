"""A team node runs a whole team as one agent of its parent: that is how hybrids are built."""

from tests.engine.helpers import run
from tests.factories import make_agent, make_edge, make_spec


def research_swarm() -> dict:
    team = make_spec(
        "swarm",
        [make_agent("triage"), make_agent("deep", role="deep research on physics")],
        [make_edge("triage", "deep", "handoff", description="physics questions")],
    )
    return team.model_dump(mode="json", by_alias=True)


async def test_a_pipeline_stage_can_be_a_whole_swarm():
    team = make_spec(
        "pipeline",
        [
            make_agent("ask"),
            {"kind": "team", "id": "research", "name": "Research", "spec": research_swarm()},
            make_agent("write"),
        ],
        [make_edge("ask", "research", "next"), make_edge("research", "write", "next")],
    )

    outcome, sink = await run(team, "a physics question about magnets")

    assert outcome.status == "succeeded"
    # The nested swarm's events sit under the team node's path and span.
    [handoff] = sink.of("handoff")
    assert handoff.key == "run/research/h0-triage:handoff"
    nested = next(e for e in sink.events if e.key == "run/research/h0-triage:started")
    team_node = next(e for e in sink.events if e.key == "run/research:started")
    assert nested.parent_span_id == team_node.span_id
    assert sink.index("run/research:finished") < sink.index("run/write:started")


async def test_a_team_node_without_a_team_fails_with_a_clear_reason():
    team = make_spec(
        "supervisor",
        [make_agent("boss"), {"kind": "team", "id": "sub", "name": "Sub"}],
        [make_edge("boss", "sub", "delegates")],
    )

    outcome, sink = await run(team, "go")

    # A broken team definition is not routed around: the run stops and says what to fix.
    assert outcome.status == "failed"
    assert (
        outcome.reason == "Team node 'Sub' has no team to run: pick a saved team or put one inline."
    )
    assert sink.of("run.failed")[0].payload["error_type"] == "invalid_team"
