"""A human node suspends the run until the answer is journaled; a budget limit pauses it for
approval. Both resume by running the engine again on the journal."""

from runs.engine import run_team
from runs.engine.interfaces import (
    CancelToken,
    Journal,
    RunOutcome,
    SystemClock,
    answer_key,
    human_answered,
)
from runs.engine.models import StaticModelRegistry
from runs.engine.tools import builtin_registry
from tests.engine.helpers import FAST, RecordingSink, run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply


def approval_pipeline():
    return make_spec(
        "pipeline",
        [
            make_agent("draft"),
            {"kind": "human", "id": "editor", "name": "Editor", "prompt": "Approve the draft?"},
            make_agent("publish"),
        ],
        [make_edge("draft", "editor", "next"), make_edge("editor", "publish", "next")],
    )


async def test_a_human_node_suspends_and_resumes_with_the_answer():
    first, sink = await run(approval_pipeline(), "a post")

    assert first.status == "waiting" and first.waiting_for == "run/editor/human"
    [requested] = sink.of("human.requested")
    assert (
        requested.payload["kind"] == "human" and requested.payload["prompt"] == "Approve the draft?"
    )
    assert sink.types()[-1] == "run.waiting" and sink.of("agent.started")[-1].agent != "publish"

    # Resumed without an answer it waits again and emits nothing new.
    again, quiet = await run(approval_pipeline(), "a post", journal=sink.events)
    assert again.status == "waiting" and quiet.events == []

    answer = human_answered(requested, {"approved": True, "note": "ship it"}, by="alice", ts=0.0)
    assert answer.key == answer_key("run/editor/human")
    done, rest = await run(approval_pipeline(), "a post", journal=[*sink.events, answer])

    assert done.status == "succeeded"
    publish_input = next(e for e in rest.events if e.key == "run/publish:input")
    assert "ship it" in publish_input.payload["content"]
    assert not {e.key for e in rest.events} & {e.key for e in sink.events}


def spender(**limits):
    return make_spec(
        "supervisor", [make_agent("solo", model="test", limits={"max_turns": 5})], limits=limits
    )


def script_three_turns(server) -> None:
    server.on(
        lambda r: r.turn < 3, Reply.calls(("calculator", {"expression": "1"}), usage=(60, 40))
    )
    server.on(lambda r: True, Reply.text("done", usage=(60, 40)))


async def test_a_budget_warns_then_pauses_and_an_approval_raises_it(openai_server):
    script_three_turns(openai_server)
    team = make_spec(
        "supervisor",
        [make_agent("solo", model="test", tools=["calculator"])],
        limits={"token_budget": 150, "budget_warning_ratio": 0.5},
    )
    models = server_models(openai_server.base_url)

    first, sink = await run(team, "spend", models=models)

    assert first.status == "waiting" and first.waiting_for == "run/solo/t3/model#budget"
    [warning] = sink.of("budget.warning")
    assert warning.payload["scope"] == "run" and warning.payload["limit"] == 150
    [request] = sink.of("human.requested")
    assert request.payload["kind"] == "budget" and "200 of 150 tokens" in request.payload["prompt"]
    assert len(openai_server.log) == 2  # the third call waits for a person

    approval = human_answered(request, {"approve": True, "extra_tokens": 1000}, by="alice", ts=0.0)
    done, _ = await run(team, "spend", models=models, journal=[*sink.events, approval])

    assert done.status == "succeeded" and done.output == "done"
    assert done.input_tokens + done.output_tokens == 300
    assert len(openai_server.completed()) == 3


async def test_declining_more_budget_fails_the_run_with_the_reason(openai_server):
    script_three_turns(openai_server)
    team = make_spec(
        "supervisor",
        [make_agent("solo", model="test", tools=["calculator"])],
        limits={"token_budget": 150},
    )
    models = server_models(openai_server.base_url)
    _, sink = await run(team, "spend", models=models)
    [request] = sink.of("human.requested")

    decline = human_answered(request, {"approve": False}, by="alice", ts=0.0)
    outcome, rest = await run(team, "spend", models=models, journal=[*sink.events, decline])

    assert outcome.status == "failed" and "declined to approve more" in outcome.reason
    assert rest.types()[-1] == "run.failed"


async def test_money_is_counted_from_model_prices(openai_server):
    openai_server.on(lambda r: True, Reply.text("ok", usage=(1_000_000, 500_000)))
    models = server_models(openai_server.base_url, input_usd_per_mtok=2.0, output_usd_per_mtok=8.0)

    outcome, sink = await run(spender(), "hi", models=models)

    assert outcome.cost_usd == 6.0
    [usage] = sink.of("usage")
    assert usage.payload["cost_usd"] == 6.0 and usage.payload["totals"]["run"]["usd"] == 6.0


class FakeClock(SystemClock):
    """System time, moved forward by hand."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return super().now() + self.offset


async def test_an_unanswered_question_past_its_timeout_is_routed_around():
    team = make_spec(
        "supervisor",
        [
            make_agent("boss"),
            {"kind": "human", "id": "expert", "name": "Expert", "timeout_s": 3600},
        ],
        [make_edge("boss", "expert", "delegates")],
    )
    clock, journal = FakeClock(), []

    async def execute() -> RunOutcome:
        sink = RecordingSink()
        outcome = await run_team(
            team, "question", journal=Journal(journal), sink=sink, models=StaticModelRegistry(),
            tools=builtin_registry(), clock=clock, cancel=CancelToken(), seed=1, run_id="r", options=FAST,
        )  # fmt: skip
        journal.extend(sink.events)
        return outcome

    first = await execute()
    assert first.status == "waiting" and 3599 < first.wake_after_s <= 3600

    clock.offset = 3601
    outcome = await execute()

    assert outcome.status == "succeeded"
    [result] = [
        e for e in journal if e.type == "tool.result" and e.payload["tool"] == "delegate_to_expert"
    ]
    assert "Expert did not answer within 3600 s." in result.payload["error"]
