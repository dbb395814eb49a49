"""Concurrency shown by the events alone: branches whose spans overlap ran at the same time."""

from tests.engine.helpers import RecordingSink, run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply

WORKERS = ("alpha", "beta", "gamma")


def overlapping(sink: RecordingSink, paths: list[str]) -> bool:
    """Every span started before any of them finished."""
    starts = [sink.index(f"{p}:started") for p in paths]
    ends = [sink.index(f"{p}:finished") for p in paths]
    return max(starts) < min(ends)


async def test_three_delegated_workers_of_200_ms_run_at_the_same_time(openai_server):
    team = make_spec(
        "supervisor",
        [make_agent("boss", model="test"), *(make_agent(w, model="test") for w in WORKERS)],
        [make_edge("boss", w, "delegates") for w in WORKERS],
    )
    calls = [(f"delegate_to_{w}", {"task": w}) for w in WORKERS]
    openai_server.on(lambda r: "You are Boss" in r.system and r.turn == 1, Reply.calls(*calls))
    openai_server.on(lambda r: "You are Boss" in r.system, Reply.text("all done"))
    openai_server.on(lambda r: True, Reply.text("worked", delay_s=0.2))

    outcome, sink = await run(team, "go", models=server_models(openai_server.base_url))

    assert outcome.status == "succeeded"
    assert overlapping(sink, [f"run/boss/t1/c{i}/{w}" for i, w in enumerate(WORKERS)])


async def test_pipeline_branches_run_at_the_same_time(openai_server):
    team = make_spec(
        "pipeline",
        [make_agent("split", model="test"), *(make_agent(w, model="test") for w in WORKERS)],
        [make_edge("split", w, "next") for w in WORKERS],
    )
    openai_server.on(lambda r: True, Reply.text("part", delay_s=0.2))

    outcome, sink = await run(team, "go", models=server_models(openai_server.base_url))

    assert outcome.status == "succeeded"
    assert outcome.output == {w: "part" for w in WORKERS}
    assert overlapping(sink, [f"run/{w}" for w in WORKERS])
