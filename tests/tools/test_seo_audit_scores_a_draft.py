"""seo_audit checks headings, keyword use, meta description, length and readability, and a
weak draft fails with fixes while a good one passes."""

from __future__ import annotations

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry

SENTENCE = "A heat pump moves heat from the air into your home. It uses little power. "
FILLER = "Good insulation keeps the warmth in. Small rooms heat up fast. Bills go down. "
GOOD_DRAFT = (
    "# Is a heat pump right for your home?\n\n"
    + SENTENCE
    + FILLER * 8
    + "\n\n## What it costs\n\n"
    + FILLER * 10
    + SENTENCE
    + "\n\n## How to start\n\n"
    + FILLER * 8
    + SENTENCE
)
META = (
    "Find out how a heat pump works, what it costs and how to tell if your home is ready for one."
)


async def audit(context: ToolContext, **args):
    return await builtin_registry().call("seo_audit", args, context)


async def test_a_good_draft_passes(context: ToolContext) -> None:
    result = await audit(context, text=GOOD_DRAFT, keyword="heat pump", meta_description=META)
    assert result.ok, result.error
    report = result.result
    assert report["passed"] is True, report["issues"]
    assert report["issues"] == [] and report["score"] == 100
    assert 0.5 <= report["stats"]["keyword_density"] <= 2.5
    assert report["stats"]["reading_ease"] > 60


async def test_a_weak_draft_fails_with_what_to_fix(context: ToolContext) -> None:
    weak = "Heat pumps.\n\n### Details\n\nThe implementation of thermodynamic electrification " * 3
    result = await audit(context, text=weak, keyword="heat pump", meta_description="Too short")
    report = result.result
    assert report["passed"] is False and report["score"] < 70
    checks = {issue["check"] for issue in report["issues"]}
    assert {"headings", "keyword", "meta_description", "length", "readability"} <= checks
    assert any("exactly one H1" in issue["message"] for issue in report["issues"])


async def test_keyword_stuffing_is_flagged(context: ToolContext) -> None:
    stuffed = "# Heat pump\n\n" + "Heat pump heat pump heat pump is a heat pump. " * 40
    result = await audit(context, text=stuffed, keyword="heat pump", meta_description=META)
    assert any("keyword stuffing" in issue["message"] for issue in result.result["issues"])


async def test_empty_text_is_refused(context: ToolContext) -> None:
    result = await audit(context, text="")
    assert not result.ok and "text" in result.error
