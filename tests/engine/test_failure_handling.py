"""Each failure path leaves events that say what happened: retries, fallback, repair turns,
route-around, deadlines, cancellation and malformed tool-call arguments."""

import asyncio

import pytest

from runs.engine.interfaces import CancelToken
from tests.engine.helpers import run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}, "required": ["title"]}


def solo(**agent):
    agent.setdefault("model", "test")
    return make_spec("supervisor", [make_agent("solo", **agent)])


@pytest.mark.parametrize(
    "fault", [Reply.error(429), Reply.error(500), Reply.error(503), Reply.text("late", delay_s=2)]
)
async def test_a_transient_error_is_retried_then_succeeds(openai_server, fault):
    openai_server.on(lambda r: r.attempt == 1, fault)
    openai_server.on(lambda r: True, Reply.text("fine"))

    outcome, sink = await run(
        solo(), "hi", models=server_models(openai_server.base_url, timeout_s=0.5)
    )

    assert outcome.status == "succeeded" and outcome.output == "fine"
    [failed] = sink.of("activity.failed")
    assert failed.payload["transient"] is True
    [retry] = sink.of("retry")
    assert retry.payload["attempt"] == 2 and retry.payload["delay_s"] > 0
    assert sink.index(failed.key) < sink.index(retry.key) < sink.index("run/solo/t1/model")


async def test_a_bad_request_is_not_retried(openai_server):
    openai_server.on(lambda r: True, Reply.error(400))

    outcome, sink = await run(solo(), "hi", models=server_models(openai_server.base_url))

    assert outcome.status == "failed" and "HTTP 400" in outcome.reason
    assert len(openai_server.log) == 1 and not sink.of("retry")


async def test_when_retries_are_exhausted_the_fallback_agent_takes_over(openai_server):
    team = make_spec(
        "supervisor",
        [
            make_agent("main", model="test", fallback="backup", limits={"max_retries": 1}),
            make_agent("backup", model="test"),
        ],
    )
    openai_server.on(lambda r: "You are Main" in r.system, Reply.error(500))
    openai_server.on(lambda r: "You are Backup" in r.system, Reply.text("backup answer"))

    outcome, sink = await run(team, "hi", models=server_models(openai_server.base_url))

    assert outcome.status == "succeeded" and outcome.output == "backup answer"
    assert len(sink.of("activity.failed")) == 2 and len(sink.of("retry")) == 1
    [fallback] = sink.of("fallback")
    assert fallback.payload["from"] == "main" and fallback.payload["to"] == "backup"
    assert "after retries" in fallback.payload["reason"]
    main_finished = next(e for e in sink.of("agent.finished") if e.agent == "main")
    assert main_finished.payload["status"] == "failed"


async def test_a_repair_turn_shows_the_validation_errors_and_fixes_the_output(openai_server):
    openai_server.on(lambda r: r.turn == 1, Reply.text('{"title": 5'))
    openai_server.on(lambda r: r.turn == 2, Reply.json({"title": 5}))
    openai_server.on(lambda r: True, Reply.json({"title": "Fixed"}))

    outcome, sink = await run(
        solo(output_schema=SCHEMA), "hi", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "succeeded" and outcome.output == {"title": "Fixed"}
    errors = [e for e in sink.of("error") if e.payload["error_type"] == "invalid_output"]
    assert len(errors) == 2 and all(e.payload["recoverable"] for e in errors)
    second, third = openai_server.log[1], openai_server.log[2]
    assert "not valid JSON" in second.messages[-1]["content"]
    assert "title: 5 is not of type 'string'" in third.messages[-1]["content"]
    assert second.body["response_format"]["json_schema"]["schema"] == SCHEMA


async def test_output_that_stays_invalid_fails_the_agent_with_the_errors(openai_server):
    openai_server.on(lambda r: True, Reply.json({"title": 5}))

    outcome, _ = await run(
        solo(output_schema=SCHEMA), "hi", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "failed"
    assert "still fails its output schema" in outcome.reason and "not of type" in outcome.reason


@pytest.mark.parametrize("levels", [300, 5000])
async def test_an_answer_nested_absurdly_deep_gets_a_repair_turn(openai_server, levels):
    # A model talked into it (by a widget visitor, a document it reads) answers with JSON
    # nested 300 levels (stored, then no API could serialise the run) or 5,000 (past
    # Python's parser: the run crashed with an internal error).
    openai_server.on(
        lambda r: r.turn == 1, Reply.text('{"title": ' + "[" * levels + "]" * levels + "}")
    )
    openai_server.on(lambda r: True, Reply.json({"title": "Flat"}))

    outcome, _ = await run(
        solo(output_schema=SCHEMA), "hi", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "succeeded" and outcome.output == {"title": "Flat"}
    assert "nested more than 64 levels" in openai_server.log[1].messages[-1]["content"]


async def test_a_supervisor_is_told_a_worker_failed_and_goes_on(openai_server):
    team = make_spec(
        "supervisor",
        [make_agent("boss", model="test"), make_agent("flaky", model="test")],
        [make_edge("boss", "flaky", "delegates")],
    )
    openai_server.on(
        lambda r: "You are Boss" in r.system and r.turn == 1,
        Reply.calls(("delegate_to_flaky", {"task": "try"})),
    )
    openai_server.on(
        lambda r: "You are Boss" in r.system,
        lambda r: Reply.text("without flaky: " + r.tool_results[0]),
    )
    openai_server.on(lambda r: "You are Flaky" in r.system, Reply.error(401))

    outcome, sink = await run(team, "go", models=server_models(openai_server.base_url))

    assert outcome.status == "succeeded"
    assert outcome.output.startswith("without flaky: Error: Flaky failed:")
    [result] = [e for e in sink.of("tool.result") if e.payload["tool"] == "delegate_to_flaky"]
    assert result.payload["ok"] is False
    routed = [
        e
        for e in sink.of("error")
        if e.payload["recoverable"] and "goes on" in e.payload["message"]
    ]
    assert len(routed) == 1


async def test_an_agent_past_its_deadline_fails_with_that_reason(openai_server):
    openai_server.on(lambda r: True, Reply.text("too late", delay_s=5))

    outcome, sink = await run(
        solo(limits={"timeout_s": 0.3}), "hi", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "failed"
    assert outcome.reason == "Solo did not finish within 0.3 s."
    assert sink.of("run.failed")[0].payload["error_type"] == "deadline"


async def test_a_run_past_its_deadline_fails_with_that_reason(openai_server):
    openai_server.on(lambda r: True, Reply.text("too late", delay_s=5))
    team = make_spec("supervisor", [make_agent("solo", model="test")], limits={"timeout_s": 0.3})

    outcome, _ = await run(team, "hi", models=server_models(openai_server.base_url))

    assert outcome.status == "failed" and "deadline (0.3 s) passed" in outcome.reason


async def test_cancelling_stops_the_call_in_flight(openai_server):
    openai_server.on(lambda r: True, Reply.text("never", delay_s=30))
    cancel = CancelToken()

    async def cancel_once_called() -> None:
        while not openai_server.log:
            await asyncio.sleep(0.01)
        cancel.cancel("Stopped by alice.")

    canceller = asyncio.create_task(cancel_once_called())
    outcome, sink = await asyncio.wait_for(
        run(solo(), "hi", models=server_models(openai_server.base_url), cancel=cancel), timeout=5
    )
    await canceller

    assert outcome.status == "cancelled" and outcome.reason == "Stopped by alice."
    assert sink.types()[-1] == "run.cancelled"
    assert not openai_server.completed()


async def test_malformed_tool_arguments_go_back_to_the_model(openai_server):
    openai_server.on(lambda r: r.turn == 1, Reply.calls(("calculator", '{"expression": "1 +')))
    openai_server.on(lambda r: r.turn == 2, Reply.calls(("calculator", {"expression": "1 + 1"})))
    openai_server.on(lambda r: True, lambda r: Reply.text(r.tool_results[-1]))

    outcome, sink = await run(
        solo(tools=["calculator"]), "hi", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "succeeded" and '"value": 2' in outcome.output
    first, second = sink.of("tool.result")
    assert first.payload["ok"] is False and "not valid JSON" in first.payload["error"]
    assert second.payload["ok"] is True


async def test_an_agent_at_its_turn_limit_fails_with_that_reason(openai_server):
    openai_server.on(lambda r: True, Reply.calls(("calculator", {"expression": "1"})))

    outcome, sink = await run(
        solo(tools=["calculator"], limits={"max_turns": 3}),
        "hi",
        models=server_models(openai_server.base_url),
    )

    assert outcome.status == "failed"
    assert outcome.reason == "Solo used all 3 turns without a final answer."
    assert len(openai_server.log) == 3 and len(sink.of("turn.started")) == 3


async def test_an_unknown_model_fails_the_agent_with_the_choices():
    outcome, _ = await run(solo(model="gpt-nope"), "hi")

    assert outcome.status == "failed"
    assert (
        "No model named 'gpt-nope' is configured" in outcome.reason and "offline" in outcome.reason
    )
