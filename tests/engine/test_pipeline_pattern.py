"""A pipeline runs its stages as a DAG, merges at joins, and gates send work back."""

import json

from tests.engine.helpers import run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply


def diamond(model: str = "test", gate: dict | None = None, **team):
    """plan -> (left, right) -> merge, with an optional gate on merge -> publish."""
    nodes = [
        make_agent(i, model=model)
        for i in ("plan", "left", "right", "merge", "publish", "reviewer")
    ]
    edges = [
        make_edge("plan", "left", "next"),
        make_edge("plan", "right", "next"),
        make_edge("left", "merge", "next"),
        make_edge("right", "merge", "next"),
        make_edge("merge", "publish", "next", gate=gate),
    ]
    return make_spec("pipeline", nodes, edges, **team)


def echo(name: str):
    return lambda r: Reply.text(f"{name}({r.messages[-1]['content']})")


def script_stages(server) -> None:
    for name in ("plan", "left", "right", "merge", "publish"):
        server.on(lambda r, n=name: f"You are {n.capitalize()}." in r.system, echo(name))


async def test_it_runs_branches_and_merges_them_at_the_join(openai_server):
    script_stages(openai_server)

    outcome, sink = await run(diamond(), "topic", models=server_models(openai_server.base_url))

    assert outcome.status == "succeeded"
    merged = json.loads(outcome.output[len("publish(merge(") : -2])
    assert merged == {"left": "left(plan(topic))", "right": "right(plan(topic))"}
    keys = [e.key for e in sink.events]
    assert keys.index("run/plan:finished") < keys.index("run/left:started")
    assert keys.index("run/left:finished") < keys.index("run/merge:started")
    assert keys.index("run/right:finished") < keys.index("run/merge:started")


async def test_a_reviewer_gate_sends_work_back_with_feedback_then_passes(openai_server):
    script_stages(openai_server)
    openai_server.on(
        lambda r: "You are Reviewer" in r.system and "feedback" not in r.user,
        Reply.json({"pass": False, "feedback": "add a title"}),
    )
    openai_server.on(
        lambda r: "You are Reviewer" in r.system, Reply.json({"pass": True, "feedback": ""})
    )
    # The reviewer sees the merge output; on the second attempt merge got the feedback.
    gate = {
        "kind": "reviewer",
        "reviewer": "reviewer",
        "criteria": "has a title",
        "max_attempts": 2,
    }

    outcome, sink = await run(
        diamond(gate=gate), "topic", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "succeeded"
    failed, passed = sink.of("gate.failed"), sink.of("gate.passed")
    assert [e.payload["feedback"] for e in failed] == ["add a title"]
    assert failed[0].payload["will_retry"] is True and passed[0].payload["attempt"] == 2
    second = next(e for e in sink.events if e.key == "run/merge@2:input")
    assert "add a title" in second.payload["content"]


async def test_a_schema_gate_that_never_passes_fails_the_run_with_its_reason(openai_server):
    script_stages(openai_server)
    gate = {
        "kind": "schema",
        "schema": {"type": "object", "required": ["title"]},
        "max_attempts": 1,
    }

    outcome, sink = await run(
        diamond(gate=gate), "topic", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "failed"
    assert "sent back 1 times" in outcome.reason and "not valid JSON" in outcome.reason
    assert [e.payload["will_retry"] for e in sink.of("gate.failed")] == [True, False]
    assert sink.types()[-1] == "run.failed" and not sink.of("run.finished")


async def test_it_runs_on_the_offline_model_through_a_reviewer_gate():
    gate = {"kind": "reviewer", "reviewer": "reviewer", "max_attempts": 2}

    outcome, sink = await run(diamond("offline", gate=gate), "topic")

    assert outcome.status == "succeeded"
    assert outcome.output and "[simulated]" not in outcome.output
    assert len(sink.of("gate.passed")) == 1
