"""An agent's ``fallback_models``: when its model keeps failing with retryable errors past its
retries, the next model of the chain answers the turn, each switch a ``fallback`` event on the
timeline; a final error (a bad request) does not switch; a resumed run takes the same path
without calling the failing model again."""

from __future__ import annotations

import dataclasses

from runs.engine.circuits import CircuitPolicy, LocalCircuits
from runs.engine.interfaces import ResolvedModel
from runs.engine.models import StaticModelRegistry, make_provider
from tests.engine.helpers import LOCAL, run
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply


def chain(openai_server, anthropic_server) -> StaticModelRegistry:
    """Three models: two OpenAI-compatible ones on one server (told apart by model name) and
    a Claude model on an Anthropic one."""

    def openai(name: str) -> ResolvedModel:
        provider = make_provider("openai", model=name, base_url=openai_server.base_url,
                                 api_key="k", network=LOCAL)  # fmt: skip
        return ResolvedModel(name, provider, name)

    claude = make_provider("anthropic", model="claude-x", base_url=anthropic_server.base_url,
                           api_key="k", network=LOCAL)  # fmt: skip
    return StaticModelRegistry(
        {"primary": openai("primary"), "second": openai("second"),
         "claude": ResolvedModel("claude", claude, "claude-x")}
    )  # fmt: skip


def team(**agent):
    agent.setdefault("fallback_models", ["second", "claude"])
    return make_spec(
        "supervisor", [make_agent("solo", model="primary", limits={"max_retries": 1}, **agent)]
    )


def model_of(request) -> str:
    return request.body.get("model")


async def test_the_next_model_answers_when_the_first_keeps_failing(openai_server, anthropic_server):
    openai_server.on(lambda r: model_of(r) == "primary", Reply.error(503))
    openai_server.on(lambda r: model_of(r) == "second", Reply.error(429))
    anthropic_server.on(lambda r: True, Reply.text("Claude answers"))

    outcome, sink = await run(team(), "hi", models=chain(openai_server, anthropic_server))

    assert outcome.status == "succeeded" and outcome.output == "Claude answers"
    # Each model had its retries (max_retries=1: two attempts) before the next took over.
    assert [model_of(r) for r in openai_server.log] == ["primary"] * 2 + ["second"] * 2
    switches = [(e.payload["from"], e.payload["to"]) for e in sink.of("fallback")]
    assert switches == [("primary", "second"), ("second", "claude")]
    assert all(e.payload["kind"] == "model" for e in sink.of("fallback"))
    assert "503" in sink.of("fallback")[0].payload["reason"]
    # The answer is recorded under the third model's key, and billed to it.
    [answer] = [e for e in sink.of("message") if e.payload["role"] == "assistant"]
    assert answer.key == "run/solo/t1/model~2" and answer.payload["model"] == "claude"
    assert [e.payload["model"] for e in sink.of("usage")] == ["claude"]
    assert not [e for e in sink.of("error") if not e.payload["recoverable"]]


async def test_a_bad_request_does_not_switch_models(openai_server, anthropic_server):
    openai_server.on(lambda r: True, Reply.error(400))

    outcome, sink = await run(team(), "hi", models=chain(openai_server, anthropic_server))

    assert outcome.status == "failed" and "HTTP 400" in outcome.reason
    assert not sink.of("fallback") and anthropic_server.log == []


async def test_when_every_model_keeps_failing_the_agent_fails(openai_server, anthropic_server):
    openai_server.on(lambda r: True, Reply.error(503))
    anthropic_server.on(lambda r: True, Reply.error(529))

    outcome, sink = await run(team(), "hi", models=chain(openai_server, anthropic_server))

    assert outcome.status == "failed" and "529" in outcome.reason
    assert len(sink.of("fallback")) == 2 and len(anthropic_server.log) == 2


async def test_a_resumed_run_does_not_call_the_failing_models_again(
    openai_server, anthropic_server
):
    openai_server.on(lambda r: True, Reply.error(503))
    anthropic_server.on(lambda r: True, Reply.text("Claude answers"))
    models = chain(openai_server, anthropic_server)
    _, first = await run(team(), "hi", models=models)
    # The worker died right after the second switch was stored.
    cut = first.index(first.of("fallback")[1].key) + 1
    served = len(openai_server.log)

    outcome, resumed = await run(team(), "hi", models=models, journal=first.events[:cut])

    assert outcome.output == "Claude answers"
    assert len(openai_server.log) == served  # the failures were replayed from the journal
    assert not resumed.of("fallback")  # already on the timeline


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def with_circuits(models: StaticModelRegistry, circuits: LocalCircuits) -> StaticModelRegistry:
    return StaticModelRegistry(
        {name: dataclasses.replace(models.get(name), circuit=circuits.circuit(name))
         for name in ("primary", "second", "claude")}
    )  # fmt: skip


async def test_an_open_circuit_sends_turns_to_the_next_model_until_its_cool_down_ends(
    openai_server, anthropic_server
):
    openai_server.on(lambda r: model_of(r) == "primary", Reply.error(503))
    openai_server.on(lambda r: True, Reply.text("second answers"))
    clock = Clock()
    circuits = LocalCircuits(CircuitPolicy(failures=3, cooldown_s=30), clock)
    models = with_circuits(chain(openai_server, anthropic_server), circuits)
    solo = team(fallback_models=["second"])

    # Two runs: 2 + 1 failures of primary open its circuit (the second run's first failure
    # is the third in a row).
    for _ in range(2):
        outcome, _ = await run(solo, "hi", models=models)
        assert outcome.output == "second answers"
    calls = len([r for r in openai_server.log if model_of(r) == "primary"])
    assert calls == 3 and not await circuits.circuit("primary").allows()

    # While it is open, primary is not called at all, and the timeline says why.
    outcome, sink = await run(solo, "hi", models=models)
    assert outcome.output == "second answers"
    assert len([r for r in openai_server.log if model_of(r) == "primary"]) == calls
    [switch] = sink.of("fallback")
    assert switch.payload["circuit_open"] is True and "circuit is open" in switch.payload["reason"]

    # After the cool-down, one probe goes through; primary has recovered, so it answers.
    clock.now += 31
    openai_server.rules.clear()
    openai_server.on(lambda r: True, Reply.text("primary is back"))
    outcome, sink = await run(solo, "hi", models=models)
    assert outcome.output == "primary is back" and not sink.of("fallback")
    assert await circuits.circuit("primary").allows()  # closed again
