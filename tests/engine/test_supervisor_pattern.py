"""A supervisor delegates to its workers, sees their results as tool results and aggregates."""

from tests.engine.helpers import run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply


def research_team(model: str = "test"):
    return make_spec(
        "supervisor",
        [
            make_agent("lead", model=model, instructions="Delegate, then combine."),
            make_agent("facts", model=model, role="Finds facts."),
            make_agent("style", model=model, role="Checks style."),
        ],
        [make_edge("lead", "facts", "delegates"), make_edge("lead", "style", "delegates")],
    )


async def test_it_delegates_to_both_workers_and_combines_their_results(openai_server):
    openai_server.on(
        lambda r: "You are Lead" in r.system and r.turn == 1,
        Reply.calls(
            ("delegate_to_facts", {"task": "find facts"}), ("delegate_to_style", {"task": "check"})
        ),
    )
    openai_server.on(
        lambda r: "You are Lead" in r.system,
        lambda r: Reply.text("Combined: " + " + ".join(r.tool_results)),
    )
    openai_server.on(lambda r: "You are Facts" in r.system, Reply.text("water is wet"))
    openai_server.on(lambda r: "You are Style" in r.system, Reply.text("style ok"))

    outcome, sink = await run(
        research_team(), "Write about water", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "succeeded"
    assert outcome.output == "Combined: water is wet + style ok"
    # The supervisor's turn, both delegations, the workers, then its second turn, in that order.
    keys = [e.key for e in sink.events]
    assert keys.index("run/lead/t1/model") < keys.index("run/lead/t1/c0:delegation")
    assert keys.index("run/lead/t1/c0:delegation") < keys.index("run/lead/t1/c0/facts:started")
    assert keys.index("run/lead/t1/c0/facts:finished") < keys.index("run/lead/t1/c0")
    assert keys.index("run/lead/t1/c1") < keys.index("run/lead/t2:turn")
    assert sink.types()[0] == "run.started" and sink.types()[-1] == "run.finished"
    assert [e.payload["to"] for e in sink.of("delegation")] == ["facts", "style"]
    # Spans nest run > agent > turn > tool call > agent.
    worker = next(e for e in sink.events if e.key == "run/lead/t1/c0/facts:started")
    call = next(e for e in sink.events if e.key == "run/lead/t1/c0:call")
    turn = next(e for e in sink.events if e.key == "run/lead/t1:turn")
    lead = next(e for e in sink.events if e.key == "run/lead:started")
    assert worker.parent_span_id == call.span_id
    assert call.parent_span_id == turn.span_id
    assert turn.parent_span_id == lead.span_id
    # Token usage is summed per run from every model call.
    assert outcome.input_tokens == 20 * 4 and outcome.output_tokens == 10 * 4


async def test_it_streams_the_supervisors_answer_as_deltas(openai_server):
    openai_server.on(
        lambda r: "You are Lead" in r.system, Reply.text("no delegation needed", chunk_chars=4)
    )

    outcome, sink = await run(research_team(), "hi", models=server_models(openai_server.base_url))

    deltas = [e.payload["text"] for e in sink.all if e.type == "message.delta"]
    assert "".join(deltas) == "no delegation needed" and len(deltas) > 1
    assert outcome.output == "no delegation needed"


async def test_it_runs_on_the_offline_model_and_says_the_answer_is_simulated():
    outcome, sink = await run(research_team("offline"), "Write about water")

    assert outcome.status == "succeeded"
    # The lead reports what its workers answered, in words, not a placeholder.
    assert outcome.output.startswith("Report from 2 tool calls:")
    assert "delegate_to_facts answered: " in outcome.output and "[simulated]" not in outcome.output
    assert [e.payload["to"] for e in sink.of("delegation")] == ["facts", "style"]
    assert all(
        e.payload["simulated"] for e in sink.of("message") if e.payload["role"] == "assistant"
    )
    assert sink.types()[-1] == "run.finished"
