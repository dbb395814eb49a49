"""make_chart draws a PNG from data and saves it as an artifact; no data is a clear failure
and nothing is saved."""

from __future__ import annotations

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry

from .conftest import DirectoryArtifacts

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def test_it_saves_a_bar_chart_as_a_png(
    context: ToolContext, artifacts: DirectoryArtifacts
) -> None:
    args = {
        "kind": "bar",
        "title": "Revenue by month",
        "labels": ["Aug", "Sep", "Oct"],
        "series": {"Consulting": [21000, 24500, 33900], "Subscriptions": [4800, 5100, 5550]},
    }
    result = await builtin_registry().call("make_chart", args, context)
    assert result.ok, result.error
    assert result.artifacts == (result.result["artifact"],)
    assert result.result["totals"] == {"Consulting": 79400, "Subscriptions": 15450}
    saved = artifacts.root / "revenue-by-month.png"
    assert saved.read_bytes().startswith(PNG_SIGNATURE)
    assert artifacts.saved[0]["content_type"] == "image/png"


async def test_line_and_pie_charts_render(
    context: ToolContext, artifacts: DirectoryArtifacts
) -> None:
    for kind in ("line", "pie"):
        args = {"kind": kind, "title": kind, "labels": ["a", "b"], "series": {"s": [1, 3]}}
        result = await builtin_registry().call("make_chart", args, context)
        assert result.ok, result.error
    assert [a["name"] for a in artifacts.saved] == ["line.png", "pie.png"]


async def test_a_chart_with_no_data_is_refused_and_nothing_saved(
    context: ToolContext, artifacts: DirectoryArtifacts
) -> None:
    for args in ({}, {"labels": ["a"], "series": {}}, {"labels": [], "series": {"s": []}}):
        result = await builtin_registry().call("make_chart", args, context)
        assert not result.ok
        assert "no data to chart" in result.error
    assert artifacts.saved == [] and list(artifacts.root.iterdir()) == []


async def test_mismatched_lengths_and_bad_numbers_are_refused(context: ToolContext) -> None:
    mismatch = {"labels": ["a", "b"], "series": {"s": [1]}}
    result = await builtin_registry().call("make_chart", mismatch, context)
    assert not result.ok and "one value per label" in result.error
    infinite = {"labels": ["a"], "series": {"s": ["inf"]}}
    result = await builtin_registry().call("make_chart", infinite, context)
    assert not result.ok and "Invalid arguments" in result.error
    pie = {"kind": "pie", "labels": ["a", "b"], "series": {"s": [1, -2]}}
    result = await builtin_registry().call("make_chart", pie, context)
    assert not result.ok and "non-negative" in result.error


async def test_without_an_artifact_store_it_says_so(context: ToolContext) -> None:
    context.artifacts = None
    args = {"labels": ["a"], "series": {"s": [1]}}
    result = await builtin_registry().call("make_chart", args, context)
    assert not result.ok and "no artifact store" in result.error
