"""The content production template, run end to end on the offline model: the SEO gate fails
the weak first draft, the writer's second attempt passes, and the outbox holds one piece per
platform."""

from pathlib import Path

from .conftest import run_template

PLATFORMS = {"blog", "newsletter", "linkedin", "x"}


async def test_the_gate_sends_the_weak_draft_back_once_then_passes(tmp_path: Path) -> None:
    run = await run_template("content-production", tool_settings={"outbox_dir": str(tmp_path)})

    assert run.outcome.status == "succeeded", run.outcome.reason
    failed, passed = run.of_type("gate.failed"), run.of_type("gate.passed")
    assert [e.payload["attempt"] for e in failed] == [1]
    assert failed[0].payload["will_retry"] is True
    assert "meta description" in failed[0].payload["feedback"]
    assert [e.payload["attempt"] for e in passed] == [2]
    # The writer ran twice, the second time with the gate's feedback.
    writer_tasks = [e.payload["task"] for e in run.of_type("agent.started") if e.agent == "writer"]
    assert len(writer_tasks) == 2
    assert "meta description" in writer_tasks[1]["feedback"]
    audits = [
        e.payload["result"] for e in run.of_type("tool.result") if e.payload["tool"] == "seo_audit"
    ]
    assert [a["passed"] for a in audits] == [False, True]


async def test_the_outbox_holds_one_piece_per_platform(tmp_path: Path) -> None:
    run = await run_template("content-production", tool_settings={"outbox_dir": str(tmp_path)})

    assert run.outcome.status == "succeeded", run.outcome.reason
    pieces = {p.parent.name: p for p in tmp_path.glob("*/*.md")}
    assert set(pieces) == PLATFORMS
    assert len(list(tmp_path.glob("*/*.md"))) == len(PLATFORMS)
    assert "# Is a heat pump right for your home?" in pieces["blog"].read_text()
    published = run.outcome.output["published"]
    assert {p["platform"] for p in published} == PLATFORMS


async def test_research_searched_the_collection_for_the_question() -> None:
    run = await run_template("content-production", tool_settings={"outbox_dir": "/nonexistent"})

    (search,) = [e for e in run.of_type("tool.result") if e.payload["tool"] == "search_documents"]
    sources = [r["source"] for r in search.payload["result"]["results"]]
    assert sources and all(s.endswith(".md") for s in sources)
