"""A breached service level does what the team declares: hands the work to an agent or a
person, raises the run's priority, asks for webhooks to be told. Time is the engine's injected
clock, moved by the test: nothing here sleeps."""

import asyncio
from dataclasses import replace

from runs.engine.interfaces import human_answered
from runs.engine.models import OFFLINE, StaticModelRegistry
from tests.factories import make_agent, make_edge, make_spec

from .helpers import SlowModel, VirtualClock, run

URGENT = {"ticket": "The site is down", "priority": "urgent", "sla": {"urgent": 60, "low": 3600}}


def team(escalations, worker_model="slow", **extra_nodes):
    nodes = [
        make_agent("lead", instructions="Delegate the ticket to the worker."),
        make_agent("worker", model=worker_model, limits={"timeout_s": 600}),
        make_agent("closer", role="Takes over tickets past their service level."),
        {"kind": "human", "id": "manager", "name": "Duty manager", "prompt": "Take this ticket."},
    ]
    return make_spec(
        "supervisor",
        nodes,
        [make_edge("lead", "worker", "delegates")],
        sla={"escalations": escalations},
    )


def models(slow: SlowModel) -> StaticModelRegistry:
    return StaticModelRegistry({"slow": replace(OFFLINE, name="slow", provider=slow)})


async def start(spec, clock, slow, task=URGENT, journal=()):
    return asyncio.ensure_future(run(spec, task, models=models(slow), clock=clock, journal=journal))


async def test_a_breach_hands_the_work_to_the_named_agent():
    clock = VirtualClock()
    slow = SlowModel(clock)
    execution = await start(team([{"hand_to": "closer"}]), clock, slow)

    # A second before the deadline the worker is still at it, and nothing is recorded.
    await clock.advance(59)
    assert not execution.done() and slow.calls == 1

    await clock.advance(2)
    outcome, sink = await execution

    assert outcome.status == "succeeded", outcome.reason
    (breach,) = sink.of("sla.breached")
    assert breach.payload == {"priority": "urgent", "deadline_s": 60.0, "elapsed_s": 60.0}
    (escalated,) = sink.of("sla.escalated")
    assert escalated.payload["hand_to"] == "closer"
    assert escalated.payload["hand_to_name"] == "Closer"
    assert sink.index(breach.key) < sink.index(escalated.key)
    # The closer took the ticket with the reason, and its answer is the run's.
    (took_over,) = [e for e in sink.of("agent.started") if e.agent == "closer"]
    assert took_over.payload["path"] == "run/@escalation"
    assert "urgent service level (60 s) passed" in took_over.payload["task"]["escalated"]
    assert took_over.payload["task"]["input"] == URGENT
    (done,) = [e for e in sink.of("agent.finished") if e.agent == "closer"]
    assert outcome.output == done.payload["output"]


async def test_a_breach_hands_the_work_to_a_person_and_the_answer_ends_the_run():
    clock = VirtualClock()
    slow = SlowModel(clock)
    spec = team([{"hand_to": "manager", "raise_priority_to": "critical"}])
    execution = await start(spec, clock, slow)
    await clock.advance(61)
    outcome, sink = await execution

    assert outcome.status == "waiting"
    (asked,) = sink.of("human.requested")
    assert asked.payload["node"] == "manager"
    assert asked.payload["activity_key"] == outcome.waiting_for == "run/@escalation/human"
    assert asked.payload["task"]["priority"] == "critical"
    assert sink.of("sla.escalated")[0].payload["raised_priority"] == "critical"

    # The manager answers: the run ends with the answer, and the interrupted work is not
    # taken up again (the slow model is not asked a second time).
    answer = human_answered(asked, "Refunded and called the customer.", by="dana", ts=clock.now())
    outcome, rest = await run(spec, URGENT, models=models(slow), clock=clock,
                              journal=[*sink.events, answer])  # fmt: skip

    assert outcome.status == "succeeded", outcome.reason
    assert outcome.output == "Refunded and called the customer."
    assert slow.calls == 1
    assert not rest.of("sla.breached") and not rest.of("sla.escalated")


async def test_without_a_hand_over_the_run_goes_on_with_its_priority_raised():
    clock = VirtualClock()
    slow = SlowModel(clock, seconds=100)  # slow, but it answers within the worker's deadline
    spec = team([{"raise_priority_to": "critical", "notify_webhooks": True}])
    execution = await start(spec, clock, slow)
    await clock.advance(200)
    outcome, sink = await execution

    assert outcome.status == "succeeded", outcome.reason
    (escalated,) = sink.of("sla.escalated")
    assert escalated.payload["hand_to"] is None
    assert escalated.payload["raised_priority"] == "critical"
    assert escalated.payload["notify_webhooks"] is True
    assert [e.agent for e in sink.of("agent.finished")] == ["worker", "lead"]


async def test_an_escalation_applies_only_to_the_priorities_it_names():
    clock = VirtualClock()
    slow = SlowModel(clock, seconds=100)
    spec = team([{"priorities": ["low"], "hand_to": "closer"}])
    execution = await start(spec, clock, slow)
    await clock.advance(200)
    outcome, sink = await execution

    # Urgent is not "low": the breach is recorded, nobody takes over, the run goes on.
    assert outcome.status == "succeeded", outcome.reason
    assert len(sink.of("sla.breached")) == 1
    assert sink.of("sla.escalated") == []
    assert "closer" not in {e.agent for e in sink.events}


async def test_a_run_waiting_for_a_person_is_woken_to_escalate_at_the_deadline():
    clock = VirtualClock()
    spec = make_spec(
        "supervisor",
        [
            make_agent("lead"),
            {"kind": "human", "id": "expert", "name": "Expert"},
            make_agent("closer"),
        ],
        [make_edge("lead", "expert", "delegates")],
        sla={"escalations": [{"hand_to": "closer"}]},
    )
    slow = SlowModel(clock)
    outcome, sink = await run(spec, URGENT, models=models(slow), clock=clock)

    # The expert has no deadline of their own; the run asks to be woken when the SLA passes.
    assert outcome.status == "waiting" and outcome.wake_after_s == 60

    await clock.advance(60)
    outcome, again = await run(spec, URGENT, models=models(slow), clock=clock,
                               journal=sink.events)  # fmt: skip

    assert outcome.status == "succeeded", outcome.reason
    assert again.of("sla.escalated")[0].payload["hand_to"] == "closer"
    assert "closer" in {e.agent for e in again.of("agent.finished")}


async def test_a_run_without_a_service_level_in_its_input_never_escalates():
    clock = VirtualClock()
    slow = SlowModel(clock, seconds=100)
    execution = await start(team([{"hand_to": "closer"}]), clock, slow, task="Just a question")
    await clock.advance(200)
    outcome, sink = await execution

    assert outcome.status == "succeeded"
    assert not sink.of("sla.breached") and not sink.of("sla.escalated")
