"""search_documents ranks a collection's documents (or log lines) by BM25 relevance."""

from __future__ import annotations

from pathlib import Path

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry


async def search(context: ToolContext, query: str, collection: str, limit: int = 5):
    args = {"query": query, "collection": collection, "limit": limit}
    return await builtin_registry().call("search_documents", args, context)


async def test_the_most_relevant_research_article_comes_first(context: ToolContext) -> None:
    result = await search(context, "planning permission noise outdoor unit", "research")
    assert result.ok, result.error
    hits = result.result["results"]
    assert hits[0]["source"] == "noise-and-planning.md"
    assert hits[0]["title"] == "Noise, placement and planning permission"
    assert "decibels" in hits[0]["snippet"] or "planning" in hits[0]["snippet"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


async def test_log_search_returns_the_matching_lines(context: ToolContext) -> None:
    result = await search(context, "ACC-1042 export timeout", "support_logs", limit=2)
    assert result.ok
    hits = result.result["results"]
    assert len(hits) == 2
    assert all("export job" in h["snippet"] and "ACC-1042" in h["snippet"] for h in hits)
    assert all(h["source"].startswith("app.log:") for h in hits)


async def test_product_docs_answer_a_billing_question(context: ToolContext) -> None:
    result = await search(context, "duplicate charge refund", "product_docs", limit=1)
    assert result.result["results"][0]["source"] == "billing-and-plans.md"


async def test_a_query_with_no_match_returns_no_results(context: ToolContext) -> None:
    result = await search(context, "quantum chromodynamics", "research")
    assert result.ok and result.result["results"] == []


async def test_an_unknown_collection_lists_the_available_ones(context: ToolContext) -> None:
    result = await search(context, "anything", "../../etc")
    assert not result.ok
    assert "product_docs, research, support_logs" in result.error


async def test_an_operator_collection_is_searched_and_reindexed_on_change(
    tmp_path: Path, context: ToolContext
) -> None:
    folder = tmp_path / "handbook"
    folder.mkdir()
    (folder / "leave.md").write_text("# Annual leave\n\nEveryone gets 28 days of annual leave.\n")
    context.settings["document_collections"] = {"handbook": str(folder)}
    assert (await search(context, "parental leave", "handbook")).result["results"][0][
        "source"
    ] == "leave.md"
    (folder / "parental.md").write_text("# Parental leave\n\nParental leave is 26 weeks.\n")
    hits = (await search(context, "parental leave weeks", "handbook")).result["results"]
    assert hits[0]["source"] == "parental.md"


async def test_a_query_of_only_stopwords_is_a_clear_failure(context: ToolContext) -> None:
    result = await search(context, "the and of", "research")
    assert not result.ok and "no searchable words" in result.error
