"""The support triage template, run end to end on the offline model: a billing ticket goes to
billing, an angry escalation to the person on the support team, a technical one to technical
support; a slow specialist breaches the ticket's SLA and is re-routed to the duty manager; an
urgent ticket past its SLA is escalated to the support lead."""

import asyncio
from dataclasses import replace

from runs.engine.interfaces import ModelRequest, ModelResponse, human_answered
from runs.engine.models import OFFLINE
from tests.engine.helpers import SlowModel, VirtualClock

from .conftest import run_template, template

SLA = {"urgent": 900, "high": 3600, "normal": 28800, "low": 86400}


def ticket(subject: str, body: str, priority: str = "normal", **fields: object) -> dict:
    return {"subject": subject, "body": body, "email": "dmitri@orbit.example",
            "priority": priority, "sla": SLA, **fields}  # fmt: skip


def handoffs(run) -> list[tuple[str, str]]:
    return [(e.payload["from"], e.payload["to"]) for e in run.of_type("handoff")]


async def test_a_billing_ticket_goes_to_billing_which_finds_the_double_charge() -> None:
    run = await run_template("support-triage")  # the sample: charged twice for October

    assert run.outcome.status == "succeeded", run.outcome.reason
    assert handoffs(run) == [("intake", "billing")]
    answer = run.outcome.output
    assert (answer["account"], answer["invoice"]) == ("ACC-1042", "INV-9303")
    assert answer["successful_charges"] == 2
    assert answer["charged_usd"] == 2 * answer["invoiced_usd"]
    assert run.of_type("sla.breached") == []


async def test_an_angry_escalation_goes_to_the_human_and_waits() -> None:
    angry = ticket(
        "Third time writing",
        "This is unacceptable. I have written three times and nobody answers. "
        "I want to speak to a manager today or I will cancel.",
        priority="urgent",
    )
    run = await run_template("support-triage", angry)

    assert handoffs(run) == [("intake", "support_lead")]
    assert run.outcome.status == "waiting"
    (asked,) = run.of_type("human.requested")
    assert asked.payload["node"] == "support_lead"
    assert run.outcome.waiting_for == asked.payload["activity_key"]


async def test_a_technical_ticket_searches_the_docs_and_the_logs() -> None:
    broken = ticket(
        "CSV export fails",
        "Our CSV export stops with a timeout error every time since Monday.",
    )
    run = await run_template("support-triage", broken)

    assert run.outcome.status == "succeeded", run.outcome.reason
    assert handoffs(run) == [("intake", "technical")]
    searched = {
        e.payload["result"]["collection"]
        for e in run.of_type("tool.result")
        if e.payload["tool"] == "search_documents" and e.payload["ok"]
    }
    assert searched == {"product_docs", "support_logs"}


class SlowProvider:
    """The offline model, but stuck: it answers long after any deadline."""

    async def complete(self, request: ModelRequest, on_delta=None) -> ModelResponse:
        await asyncio.sleep(30)
        return await OFFLINE.provider.complete(request, on_delta)


async def test_a_slow_specialist_breaches_the_sla_and_is_rerouted() -> None:
    # Billing is made slow: its model hangs past its 1 s deadline; the ticket's SLA is 0.3 s.
    spec = template("support-triage").spec
    slow_billing = [
        n.model_copy(update={"model": "slow", "limits": n.limits.model_copy(update={"timeout_s": 1})})
        if n.id == "billing" else n
        for n in spec.nodes
    ]  # fmt: skip
    spec = spec.model_copy(update={"nodes": slow_billing})
    sample = dict(template("support-triage").sample_input, sla={**SLA, "high": 0.3})

    slow = replace(OFFLINE, name="slow", provider=SlowProvider())
    run = await run_template("support-triage", sample, spec=spec, models={"slow": slow})

    assert run.outcome.status == "succeeded", run.outcome.reason
    (breach,) = run.of_type("sla.breached")
    assert breach.payload["priority"] == "high" and breach.payload["deadline_s"] == 0.3
    (rerouted,) = run.of_type("fallback")
    assert (rerouted.payload["from"], rerouted.payload["to"]) == ("billing", "duty_manager")
    assert "1 s" in rerouted.payload["reason"] or "deadline" in rerouted.payload["reason"].lower()
    assert [e.agent for e in run.of_type("agent.finished")][-1] == "duty_manager"


async def test_an_urgent_ticket_past_its_sla_is_escalated_to_the_support_lead() -> None:
    # An urgent double charge; billing's model provider is down (it would answer in a day),
    # and this customer's contract gives urgent tickets 60 s. Time is the engine's clock.
    clock = VirtualClock()
    down = replace(OFFLINE, name="down", provider=SlowModel(clock))
    spec = template("support-triage").spec
    spec = spec.model_copy(update={"nodes": [
        n.model_copy(update={"model": "down"}) if n.id == "billing" else n for n in spec.nodes
    ]})  # fmt: skip
    urgent = dict(
        template("support-triage").sample_input, priority="urgent", sla={**SLA, "urgent": 60}
    )

    execution = asyncio.ensure_future(
        run_template("support-triage", urgent, spec=spec, models={"down": down}, clock=clock)
    )
    await clock.advance(59)
    assert not execution.done()  # billing is still trying
    await clock.advance(2)
    run = await execution

    # The breach, then the escalation to the support lead, who is asked to take the ticket.
    assert handoffs(run) == [("intake", "billing")]
    (breach,) = run.of_type("sla.breached")
    assert (breach.payload["priority"], breach.payload["deadline_s"]) == ("urgent", 60)
    (escalated,) = run.of_type("sla.escalated")
    assert escalated.payload["hand_to"] == "support_lead"
    assert escalated.payload["hand_to_name"] == "Support lead"
    assert escalated.payload["notify_webhooks"] is True
    assert run.outcome.status == "waiting"
    (asked,) = run.of_type("human.requested")
    assert asked.payload["node"] == "support_lead"
    assert "passed its service level" in asked.payload["prompt"]
    assert asked.payload["task"]["input"]["subject"] == "Charged twice for October"

    # The lead answers: that is the reply the run ends with.
    reply = {"reply": "Refunded the duplicate charge; sorry, Rosa.", "action": "refund"}
    answer = human_answered(asked, reply, by="lead@example.com", ts=clock.now())
    done = await run_template("support-triage", urgent, spec=spec, models={"down": down},
                              clock=clock, journal=[*run.sink.events, answer])  # fmt: skip
    assert done.outcome.status == "succeeded", done.outcome.reason
    assert done.outcome.output == reply
