"""The offline model runs the shapes of the shipped templates end to end with no network: it
builds tool arguments from the input and the instructions, delegates to every worker, hands off
by matching the ticket, answers a gate from a tool's verdict and fills output schemas."""

from pydantic import BaseModel

from runs.engine.tools import Registry
from tests.engine.helpers import run
from tests.factories import make_agent, make_edge, make_spec

DIFF = "--- a/app.py\n+++ b/app.py\n+password = 'hunter2'\n"
tools = Registry()


class DiffArgs(BaseModel):
    diff: str


class QueryArgs(BaseModel):
    query: str


class ReconcileArgs(BaseModel):
    account: str
    period: str


class TextArgs(BaseModel):
    text: str
    min_words: int = 5


@tools.tool("lint_diff", "Lint a unified diff.")
def lint_diff(args: DiffArgs, context) -> dict:
    return {"lines": args.diff.count("\n"), "warnings": []}


@tools.tool("security_scan_diff", "Scan a diff for secrets.")
def security_scan_diff(args: DiffArgs, context) -> dict:
    return {"secrets": ["password"] if "password" in args.diff else []}


@tools.tool("sql_query", "Run SQL on the ledger.")
def sql_query(args: QueryArgs, context) -> dict:
    return {"query": args.query, "rows": [{"total": 1200}]}


@tools.tool("reconcile", "Reconcile an account.")
def reconcile(args: ReconcileArgs, context) -> dict:
    return {"account": args.account, "period": args.period, "difference": 0}


@tools.tool("seo_audit", "Audit a text for SEO.")
def seo_audit(args: TextArgs, context) -> dict:
    words = len(args.text.split())
    passed = words >= args.min_words
    return {"passed": passed, "feedback": "" if passed else f"only {words} words", "words": words}


def calls(sink, tool: str) -> list[dict]:
    return [e.payload["arguments"] for e in sink.of("tool.call") if e.payload["tool"] == tool]


async def test_code_review_workers_lint_and_scan_the_diff_from_the_input():
    team = make_spec(
        "supervisor",
        [
            make_agent("lead"),
            make_agent("linter", tools=["lint_diff"]),
            make_agent("security", tools=["security_scan_diff"]),
        ],
        [make_edge("lead", "linter", "delegates"), make_edge("lead", "security", "delegates")],
    )

    outcome, sink = await run(team, {"diff": DIFF, "title": "Add login"}, tools=tools)

    assert outcome.status == "succeeded"
    assert calls(sink, "lint_diff") == [{"diff": DIFF}] and calls(sink, "security_scan_diff") == [
        {"diff": DIFF}
    ]
    assert outcome.output.startswith("Report from 2 tool calls:")
    assert '"secrets": ["password"]' in outcome.output


async def test_monthly_close_takes_a_pinned_query_from_the_instructions():
    team = make_spec(
        "supervisor",
        [
            make_agent("controller"),
            make_agent(
                "ledger",
                tools=["sql_query"],
                instructions="Sum the month.\nsql_query.query: SELECT sum(amount) FROM ledger",
            ),
            make_agent("reconciler", tools=["reconcile"]),
        ],
        [
            make_edge("controller", "ledger", "delegates"),
            make_edge("controller", "reconciler", "delegates"),
        ],
    )

    outcome, sink = await run(team, {"account": "1200-bank", "period": "2026-10"}, tools=tools)

    assert outcome.status == "succeeded"
    assert calls(sink, "sql_query") == [{"query": "SELECT sum(amount) FROM ledger"}]
    assert calls(sink, "reconcile") == [{"account": "1200-bank", "period": "2026-10"}]


def content_pipeline(min_words: int):
    article = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "text": {"type": "string"}},
        "required": ["title", "text"],
    }
    return make_spec(
        "pipeline",
        [
            make_agent("writer", output_schema=article),
            make_agent(
                "seo", tools=["seo_audit"], instructions=f"seo_audit.min_words: {min_words}"
            ),
            make_agent("publisher"),
        ],
        [
            make_edge(
                "writer",
                "publisher",
                "next",
                gate={"kind": "reviewer", "reviewer": "seo", "max_attempts": 1},
            )
        ],
    )


BRIEF = {
    "title": "Magnets",
    "text": "Magnets attract iron because of aligned domains in the metal.",
}


async def test_content_pipeline_gate_passes_on_the_tools_verdict():
    outcome, sink = await run(content_pipeline(min_words=5), BRIEF, tools=tools)

    assert outcome.status == "succeeded"
    writer = next(e for e in sink.of("agent.finished") if e.agent == "writer")
    assert writer.payload["output"] == BRIEF  # schema fields filled from same-named input fields
    assert calls(sink, "seo_audit") == [{"text": BRIEF["text"], "min_words": 5}]
    [passed] = sink.of("gate.passed")
    assert passed.payload["attempt"] == 1


async def test_content_pipeline_gate_fails_on_the_tools_verdict_and_sends_work_back():
    outcome, sink = await run(content_pipeline(min_words=500), BRIEF, tools=tools)

    assert outcome.status == "failed" and "only 10 words" in outcome.reason
    assert [e.payload["feedback"] for e in sink.of("gate.failed")] == ["only 10 words"] * 2


def support_swarm():
    return make_spec(
        "swarm",
        [
            make_agent("intake", role="Reads tickets"),
            make_agent("billing", role="Billing: invoices, charges, refunds"),
            make_agent("technical", role="Technical support: errors, crashes, passwords"),
            {
                "kind": "human",
                "id": "manager",
                "name": "Manager",
                "role": "Escalations",
                "prompt": "An angry customer needs you.",
            },
        ],
        [
            make_edge("intake", "billing", "handoff"),
            make_edge("intake", "technical", "handoff"),
            make_edge(
                "intake", "manager", "handoff", description="angry, furious customers, complaints"
            ),
        ],
    )


async def test_support_swarm_routes_a_billing_ticket_to_billing():
    outcome, sink = await run(support_swarm(), {"ticket": "I was charged twice on my last invoice"})

    assert outcome.status == "succeeded"
    assert [e.payload["to"] for e in sink.of("handoff")] == ["billing"]


async def test_support_swarm_escalates_an_angry_customer_to_a_person():
    outcome, sink = await run(
        support_swarm(), {"ticket": "I am furious, this is the third complaint!"}
    )

    assert outcome.status == "waiting"
    assert [e.payload["to"] for e in sink.of("handoff")] == ["manager"]
    assert sink.of("human.requested")[0].payload["prompt"] == "An angry customer needs you."


async def test_with_the_built_in_seo_audit_a_weak_draft_goes_back_with_the_issues():
    spec = make_spec(
        "pipeline",
        [make_agent("writer"), make_agent("seo", tools=["seo_audit"]), make_agent("publisher")],
        [
            make_edge(
                "writer",
                "publisher",
                "next",
                gate={"kind": "reviewer", "reviewer": "seo", "max_attempts": 1},
            )
        ],
    )

    outcome, sink = await run(spec, {"text": "Magnets attract iron."})

    assert outcome.status == "failed"
    failed = sink.of("gate.failed")
    assert len(failed) == 2 and "Write at least 300 words" in failed[0].payload["feedback"]
    assert "Write at least 300 words" in outcome.reason


async def test_a_gate_whose_audit_tool_fails_does_not_pass_the_work():
    broken = Registry()

    @broken.tool("seo_audit", "Audit a text for SEO.")
    def failing_audit(args: TextArgs, context) -> dict:
        raise RuntimeError("audit service is down")

    outcome, sink = await run(content_pipeline(min_words=5), BRIEF, tools=broken)

    assert outcome.status == "failed"
    assert not sink.of("gate.passed")
    assert [e.payload["attempt"] for e in sink.of("gate.failed")] == [1, 2]
