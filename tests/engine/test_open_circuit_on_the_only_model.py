"""An agent's only model is never called while its credential's circuit is open: the call
waits for the half-open moment, shown on the timeline as ``circuit.waiting`` and not counted
against the agent's deadline; when that moment is after the run's deadline, the agent fails at
once with a reason a person understands, and the server is not called."""

from __future__ import annotations

import time

from runs.engine.circuits import CircuitPolicy, LocalCircuits
from runs.engine.interfaces import ResolvedModel
from runs.engine.models import StaticModelRegistry, make_provider
from tests.engine.helpers import LOCAL, run
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply


def only_model(openai_server, circuits: LocalCircuits) -> StaticModelRegistry:
    provider = make_provider("openai", model="m", base_url=openai_server.base_url,
                             api_key="k", network=LOCAL)  # fmt: skip
    model = ResolvedModel("only", provider, "m", circuit=circuits.circuit("credential:only"))
    return StaticModelRegistry({"only": model})


def solo(agent_timeout_s: float = 60.0, run_timeout_s: float = 600.0):
    agent = make_agent(
        "solo", model="only", limits={"timeout_s": agent_timeout_s, "max_retries": 1}
    )
    return make_spec("supervisor", [agent], limits={"timeout_s": run_timeout_s})


def opened(cooldown_s: float) -> LocalCircuits:
    circuits = LocalCircuits(CircuitPolicy(failures=2, cooldown_s=cooldown_s))
    for _ in range(2):
        circuits.record("credential:only", ok=False)
    return circuits


async def test_the_only_model_waits_for_the_half_open_moment_past_the_agents_deadline(
    openai_server,
):
    called_at: list[float] = []
    openai_server.on(lambda r: called_at.append(time.monotonic()) or True, Reply.text("Back"))
    circuits = LocalCircuits(CircuitPolicy(failures=2, cooldown_s=3))
    models = only_model(openai_server, circuits)
    await run(solo(), "warm up", models=models)  # a first run in a process imports a lot
    called_at.clear()
    started = time.monotonic()
    for _ in range(2):
        circuits.record("credential:only", ok=False)

    # The agent has 1 s; the circuit half-opens in 3 s: the wait is not the agent's.
    outcome, sink = await run(solo(agent_timeout_s=1.0), "hi", models=models)

    assert outcome.status == "succeeded", outcome.reason
    assert outcome.output == "Back"
    # The server was not called while the circuit was open ...
    [called] = called_at
    assert called - started >= 2.9
    # ... and the timeline says what the run waited for.
    [waiting] = sink.of("circuit.waiting")
    assert waiting.payload["model"] == "only" and 1.0 < waiting.payload["wait_s"] <= 3
    assert waiting.payload["activity_key"] == "run/solo/t1/model"
    assert waiting.agent == "solo" and waiting.payload["probing"] is False
    assert circuits.allows("credential:only")  # the probe succeeded: closed again


async def test_a_half_open_moment_after_the_runs_deadline_fails_the_agent_at_once(openai_server):
    openai_server.on(lambda r: True, Reply.text("never asked"))
    circuits = opened(cooldown_s=30)
    started = time.monotonic()

    outcome, sink = await run(
        solo(run_timeout_s=5), "hi", models=only_model(openai_server, circuits)
    )

    assert outcome.status == "failed"
    assert "circuit is open" in outcome.reason and "after the run's deadline" in outcome.reason
    assert "fallback models" in outcome.reason  # what to do about it
    assert openai_server.log == [] and time.monotonic() - started < 3
    assert not sink.of("circuit.waiting")


async def test_failures_that_open_the_circuit_mid_retries_make_the_next_attempt_wait(
    openai_server,
):
    # The first attempt's 503 is the second failure in a row: the retry waits for the probe.
    first = lambda r: len(openai_server.log) == 1  # noqa: E731
    openai_server.on(first, Reply.error(503))
    openai_server.on(lambda r: True, Reply.text("Recovered"))
    circuits = LocalCircuits(CircuitPolicy(failures=2, cooldown_s=1.0))
    circuits.record("credential:only", ok=False)
    models = only_model(openai_server, circuits)

    outcome, sink = await run(solo(), "hi", models=models)

    assert outcome.output == "Recovered"
    [waiting] = sink.of("circuit.waiting")
    assert waiting.payload["attempt"] == 2 and 0.5 < waiting.payload["wait_s"] <= 1.0
    assert [r.status for r in openai_server.log] == [503, 200]


async def test_429s_are_the_rate_limiters_and_do_not_open_the_circuit(openai_server):
    # Rate limiting is not an outage: a circuit opened by it would stop every run for the
    # whole cool-down, where the limiter's pause lasts only as long as the server asked.
    early = lambda r: len(openai_server.log) <= 2  # noqa: E731
    openai_server.on(early, Reply.error(429, headers=(("Retry-After", "0"),)))
    openai_server.on(lambda r: True, Reply.text("Answered"))
    circuits = LocalCircuits(CircuitPolicy(failures=2, cooldown_s=30))
    models = only_model(openai_server, circuits)
    agent = make_agent("solo", model="only", limits={"max_retries": 2})

    outcome, sink = await run(make_spec("supervisor", [agent]), "hi", models=models)

    assert outcome.output == "Answered" and not sink.of("circuit.waiting")
    assert circuits.allows("credential:only")
