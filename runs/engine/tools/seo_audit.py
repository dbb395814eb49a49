"""``seo_audit``: headings, keyword use, meta description and readability of a draft.

Each check that fails becomes an issue saying what to change, and the score drops by the
issue's weight; ``passed`` is what a pipeline gate reads to send a weak draft back.
Readability is the Flesch reading ease, with syllables counted by Pyphen's hyphenation
dictionaries (the method textstat uses, without its data downloads).

The draft is untrusted text: headings are found line by line with string operations and the
sentence count is a regex without nested repetition, so the work is linear in the draft's
length whatever it contains (a backtracking heading pattern took seconds on 2,000 spaces).
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from typing import Any

import pyphen
from pydantic import BaseModel, Field

from ..interfaces import ToolContext
from .builtin_tools import registry

META_MIN, META_MAX = 70, 160
DENSITY_MIN, DENSITY_MAX = 0.5, 2.5  # percent of words
MIN_WORDS = 300
MIN_READING_EASE = 50.0
_WORD = re.compile(r"[A-Za-z0-9]+(?:['\u2019-][A-Za-z0-9]+)*")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")  # the last mark of a run, before a space


class SeoAuditArgs(BaseModel):
    text: str = Field(min_length=1, max_length=100_000, description="The draft, in Markdown.")
    keyword: str = Field("", max_length=100, description="The focus keyword or phrase.")
    meta_description: str = Field("", max_length=1000)
    min_score: int = Field(70, ge=0, le=100, description="Score needed to pass.")


@registry.tool(
    "seo_audit",
    "Audit a Markdown draft for SEO: heading structure, focus keyword density and placement, "
    "meta description length, length and readability. Returns a score, pass/fail and fixes.",
    timeout_s=10,
    in_pool=True,
)
def seo_audit(args: SeoAuditArgs, context: ToolContext) -> dict[str, Any]:
    headings, body = split_headings(args.text)
    words = _WORD.findall(body)
    issues: list[dict[str, Any]] = []
    stats = {
        "words": len(words),
        "headings": [{"level": level, "text": text} for level, text in headings],
        **_readability(body, words),
        **_keyword(args, body, words, headings),
        "meta_description_length": len(args.meta_description.strip()),
    }
    _check_headings(headings, len(words), issues)
    _check_keyword(args.keyword, stats, issues)
    _check_meta(args.meta_description.strip(), issues)
    _check_text(stats, issues)
    score = max(0, 100 - sum(issue["weight"] for issue in issues))
    return {"score": score, "passed": score >= args.min_score, "issues": issues, "stats": stats}


def split_headings(text: str) -> tuple[list[tuple[int, str]], str]:
    """The ATX headings (level, text) and the body without them."""
    headings: list[tuple[int, str]] = []
    body: list[str] = []
    for line in text.split("\n"):
        heading = _heading(line)
        if heading is None:
            body.append(line)
        else:
            headings.append(heading)
            body.append("")
    return headings, "\n".join(body)


def _heading(line: str) -> tuple[int, str] | None:
    level = len(line) - len(line.lstrip("#"))
    rest = line[level:]
    if not 1 <= level <= 6 or not rest[:1].isspace():
        return None
    title = rest.strip().rstrip("#").rstrip()  # "## Title ##": the closing hashes go
    return (level, title) if title else None


def _issue(issues: list, check: str, weight: int, message: str) -> None:
    issues.append({"check": check, "weight": weight, "message": message})


def _check_headings(headings: list[tuple[int, str]], words: int, issues: list) -> None:
    h1 = [text for level, text in headings if level == 1]
    if len(h1) != 1:
        _issue(issues, "headings", 15, f"Use exactly one H1 title (found {len(h1)}).")
    for (before, _), (level, text) in itertools.pairwise(headings):
        if level > before + 1:
            _issue(
                issues, "headings", 5, f"Heading {text!r} skips a level (H{before} to H{level})."
            )
    if words >= MIN_WORDS and sum(level == 2 for level, _ in headings) < 2:
        _issue(issues, "headings", 10, "Break the text up with at least two H2 sections.")


def _keyword(args: SeoAuditArgs, body: str, words: list[str], headings: list) -> dict[str, Any]:
    phrase = [w.lower() for w in _WORD.findall(args.keyword)]
    if not phrase:
        return {}
    lowered = [w.lower() for w in words]
    hits = sum(lowered[i : i + len(phrase)] == phrase for i in range(len(lowered)))
    density = 100 * hits * len(phrase) / max(len(words), 1)
    joined = " ".join(phrase)

    def has(text: str) -> bool:
        return joined in " ".join(w.lower() for w in _WORD.findall(text))

    return {
        "keyword_count": hits,
        "keyword_density": round(density, 2),
        "keyword_in_title": any(has(text) for level, text in headings if level == 1),
        "keyword_in_intro": has(" ".join(words[:100])),
        "keyword_in_meta": has(args.meta_description),
    }


def _check_keyword(keyword: str, stats: dict[str, Any], issues: list) -> None:
    if not keyword.strip():
        _issue(issues, "keyword", 10, "Name a focus keyword so its use can be checked.")
        return
    density = stats["keyword_density"]
    if density < DENSITY_MIN:
        _issue(
            issues,
            "keyword",
            15,
            f"Use {keyword!r} more: density {density}% is below {DENSITY_MIN}%.",
        )
    elif density > DENSITY_MAX:
        _issue(
            issues,
            "keyword",
            15,
            f"Use {keyword!r} less: density {density}% is above {DENSITY_MAX}% (keyword stuffing).",
        )
    for where, field in (
        ("the H1 title", "keyword_in_title"),
        ("the first 100 words", "keyword_in_intro"),
        ("the meta description", "keyword_in_meta"),
    ):
        if not stats[field]:
            _issue(issues, "keyword", 5, f"Put {keyword!r} in {where}.")


def _check_meta(meta: str, issues: list) -> None:
    if not meta:
        _issue(
            issues,
            "meta_description",
            15,
            f"Write a meta description of {META_MIN}-{META_MAX} characters.",
        )
    elif not META_MIN <= len(meta) <= META_MAX:
        _issue(
            issues,
            "meta_description",
            10,
            f"Make the meta description {META_MIN}-{META_MAX} characters long (it is {len(meta)}).",
        )


def _check_text(stats: dict[str, Any], issues: list) -> None:
    if stats["words"] < MIN_WORDS:
        _issue(
            issues,
            "length",
            15,
            f"Write at least {MIN_WORDS} words (the draft has {stats['words']}).",
        )
    if stats["reading_ease"] < MIN_READING_EASE:
        _issue(
            issues,
            "readability",
            10,
            f"Simplify: reading ease {stats['reading_ease']} is below {MIN_READING_EASE:g}; use shorter sentences and words.",
        )


def _readability(body: str, words: list[str]) -> dict[str, float]:
    sentences = max(1, len(_SENTENCE_END.findall(body)))
    syllables = sum(_syllables(w) for w in words)
    count = max(len(words), 1)
    ease = 206.835 - 1.015 * count / sentences - 84.6 * syllables / count
    return {
        "sentences": sentences,
        "words_per_sentence": round(count / sentences, 1),
        "reading_ease": round(ease, 1),
    }


def _syllables(word: str) -> int:
    return len(_dictionary().positions(word.lower())) + 1


@cache
def _dictionary() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")
