"""In a swarm control and the conversation move along handoffs, and a loop ends with an error."""

from tests.engine.helpers import run, server_models
from tests.factories import make_agent, make_edge, make_spec
from tests.support.openai_server import Reply


def support_desk(model: str = "test", **team):
    return make_spec(
        "swarm",
        [
            make_agent("intake", model=model, role="Reads the ticket and routes it."),
            make_agent("billing", model=model, role="Handles invoices, charges and refunds."),
            make_agent("technical", model=model, role="Fixes login errors and crashes."),
        ],
        [
            make_edge(
                "intake", "billing", "handoff", description="payment, invoice, charged twice"
            ),
            make_edge(
                "intake", "technical", "handoff", description="errors, crashes, login problems"
            ),
            make_edge("billing", "intake", "handoff"),
            make_edge("technical", "intake", "handoff"),
        ],
        **team,
    )


async def test_control_and_conversation_move_to_the_peer(openai_server):
    openai_server.on(
        lambda r: "You are Intake" in r.system,
        Reply.calls(("transfer_to_billing", {"reason": "a payment question"})),
    )
    # Billing sees the whole conversation so far, including the customer's words.
    openai_server.on(
        lambda r: "You are Billing" in r.system,
        lambda r: Reply.text(f"Refund issued for: {r.user}"),
    )

    outcome, sink = await run(
        support_desk(), "I was charged twice", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "succeeded"
    assert outcome.output == "Refund issued for: I was charged twice"
    [handoff] = sink.of("handoff")
    assert handoff.payload == {"from": "intake", "to": "billing", "reason": "a payment question"}
    billing_request = next(r for r in openai_server.log if "You are Billing" in r.system)
    assert "handed the conversation to Billing" in billing_request.system
    assert sink.index("run/h0-intake:handoff") < sink.index("run/h1-billing:started")


async def test_a_handoff_loop_ends_with_a_clear_error(openai_server):
    openai_server.on(
        lambda r: "You are Intake" in r.system,
        Reply.calls(("transfer_to_billing", {"reason": "yours"})),
    )
    openai_server.on(
        lambda r: "You are Billing" in r.system,
        Reply.calls(("transfer_to_intake", {"reason": "no, yours"})),
    )

    outcome, sink = await run(
        support_desk(limits={"max_hops": 3}), "help", models=server_models(openai_server.base_url)
    )

    assert outcome.status == "failed"
    assert "intake -> billing -> intake -> billing -> intake" in outcome.reason
    assert "limit of 3 handoffs" in outcome.reason
    assert len(sink.of("handoff")) == 4
    assert sink.of("run.failed")[0].payload["error_type"] == "handoff_loop"


async def test_the_offline_model_hands_off_by_matching_the_ticket_against_peers():
    outcome, sink = await run(support_desk("offline"), "The app crashes with a login error")

    assert outcome.status == "succeeded"
    assert [e.payload["to"] for e in sink.of("handoff")] == ["technical"]
    assert outcome.output and "[simulated]" not in outcome.output


async def test_the_offline_model_answers_itself_when_no_peer_matches():
    outcome, sink = await run(support_desk("offline"), "Hello there")

    assert outcome.status == "succeeded" and not sink.of("handoff")
