"""Aggregates and comparisons of experiments: each scorer's mean with a bootstrap 95%
interval (seeded, so the same results always give the same interval), and two experiments
side by side on the dataset items they share."""

from __future__ import annotations

import difflib
import json
import random
from collections.abc import Sequence
from statistics import fmean
from typing import Any

from ninja import Schema

from .models import Experiment, ExperimentItem

RESAMPLES = 1000
SEED = 20


def interval(values: Sequence[float], seed: int = SEED) -> tuple[float, float, float]:
    """(mean, low, high): the 2.5th and 97.5th percentiles of ``RESAMPLES`` resampled means."""
    if not values:
        return 0.0, 0.0, 0.0
    rng = random.Random(seed)
    n = len(values)
    means = sorted(fmean(rng.choices(values, k=n)) for _ in range(RESAMPLES))
    return fmean(values), means[int(0.025 * RESAMPLES)], means[int(0.975 * RESAMPLES) - 1]


def _by_scorer(scored: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for scores in scored:
        for name, result in scores.items():
            found.setdefault(name, []).append(float(result["score"]))
    return found


def summary(scored: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each scorer's mean and interval over ``scored`` (the ``scores`` of done items)."""
    out = {}
    for name, values in _by_scorer(scored).items():
        mean, low, high = interval(values)
        out[name] = {"mean": round(mean, 6), "low": round(low, 6), "high": round(high, 6)}
    return out


#: Lines of each output one item's diff reads. Outputs are what models wrote, and difflib's
#: matching grows faster than the square of the lines: two outputs of 20,000 repetitive lines
#: took 65 s of CPU for one item's diff (500 lines: 3 ms).
DIFF_MAX_LINES = 500
#: Lines the diffs of one comparison read in all (it may have 10,000 items); the items past it
#: say so instead of a diff.
DIFF_BUDGET_LINES = 100_000
NO_DIFF = (
    "(No diff: this comparison has shown as many lines of diffs as it may; compare the outputs.)"
)


def output_lines(value: Any) -> list[str]:
    """The lines of an output a diff reads: at most ``DIFF_MAX_LINES``, the cut noted."""
    text = value if isinstance(value, str) else json.dumps(value, indent=2, sort_keys=True)
    lines = text.splitlines()
    if len(lines) <= DIFF_MAX_LINES:
        return lines
    return [*lines[:DIFF_MAX_LINES], f"(… {len(lines) - DIFF_MAX_LINES} more lines, not compared)"]


def _unified(a: list[str], b: list[str]) -> str:
    return "\n".join(difflib.unified_diff(a, b, "a", "b", lineterm="", n=2))


class ScorerComparison(Schema):
    a: dict[str, float]
    b: dict[str, float]
    difference: float
    #: The bootstrap 95% interval of the paired difference (b - a) on the shared items.
    difference_low: float
    difference_high: float


class ItemComparison(Schema):
    item_id: int
    input: Any
    expected: Any
    change: str
    a: dict[str, Any]
    b: dict[str, Any]
    diff: str


class ComparisonOut(Schema):
    a: int
    b: int
    items: int
    scorers: dict[str, ScorerComparison]
    regressed: int
    improved: int
    cost_usd: dict[str, float]
    latency_s: dict[str, float]
    results: list[ItemComparison]


def _side(item: ExperimentItem) -> dict[str, Any]:
    return {
        "run_id": str(item.run_id) if item.run_id else None,
        "status": item.status,
        "output": item.output,
        "scores": item.scores,
        "cost_usd": float(item.cost_usd),
        "latency_s": item.latency_s,
    }


def _total(scores: dict[str, Any]) -> float:
    return sum(float(r["score"]) for r in scores.values())


def compare(a: Experiment, b: Experiment) -> dict[str, Any]:
    """``b`` against the baseline ``a`` on the dataset items both ran and scored."""
    done = ExperimentItem.Status.DONE
    left = {i.item_id: i for i in a.items.filter(status=done).select_related("item")}
    right = {i.item_id: i for i in b.items.filter(status=done).select_related("item")}
    shared = sorted(set(left) & set(right))
    results = []
    for item_id in shared:
        x, y = left[item_id], right[item_id]
        delta = _total(y.scores) - _total(x.scores)
        change = "regressed" if delta < 0 else "improved" if delta > 0 else "same"
        results.append({
            "item_id": item_id, "input": x.item.input, "expected": x.item.expected,
            "change": change, "a": _side(x), "b": _side(y),
        })  # fmt: skip
    order = {"regressed": 0, "improved": 1, "same": 2}
    results.sort(key=lambda r: (order[r["change"]], r["item_id"]))
    _diffs(results)
    return {
        "a": a.pk,
        "b": b.pk,
        "items": len(shared),
        "scorers": _scorers([left[i] for i in shared], [right[i] for i in shared]),
        "regressed": sum(r["change"] == "regressed" for r in results),
        "improved": sum(r["change"] == "improved" for r in results),
        "cost_usd": _delta(
            [float(left[i].cost_usd) for i in shared],
            [float(right[i].cost_usd) for i in shared],
            sum,
        ),
        "latency_s": _delta(
            [left[i].latency_s or 0.0 for i in shared],
            [right[i].latency_s or 0.0 for i in shared],
            _mean,
        ),
        "results": results,
    }


def _diffs(results: list[dict[str, Any]]) -> None:
    """Each result's diff, in order, until the comparison's ``DIFF_BUDGET_LINES`` are read."""
    left = DIFF_BUDGET_LINES
    for result in results:
        if left < 0:  # spent: the rest are not even split into lines
            result["diff"] = NO_DIFF
            continue
        a, b = output_lines(result["a"]["output"]), output_lines(result["b"]["output"])
        left -= len(a) + len(b)
        result["diff"] = _unified(a, b) if left >= 0 else NO_DIFF


def _mean(values: Sequence[float]) -> float:
    return fmean(values) if values else 0.0


def _delta(a: Sequence[float], b: Sequence[float], how: Any) -> dict[str, float]:
    x, y = float(how(a)), float(how(b))
    return {"a": round(x, 6), "b": round(y, 6), "difference": round(y - x, 6)}


def _scorers(a: list[ExperimentItem], b: list[ExperimentItem]) -> dict[str, dict[str, Any]]:
    out = {}
    names = sorted({n for i in a for n in i.scores} & {n for i in b for n in i.scores})
    for name in names:
        pairs = [(x.scores[name]["score"], y.scores[name]["score"]) for x, y in zip(a, b, strict=True)
                 if name in x.scores and name in y.scores]  # fmt: skip
        ma, la, ha = interval([p[0] for p in pairs])
        mb, lb, hb = interval([p[1] for p in pairs])
        md, ld, hd = interval([q - p for p, q in pairs])
        out[name] = {
            "a": {"mean": round(ma, 6), "low": round(la, 6), "high": round(ha, 6)},
            "b": {"mean": round(mb, 6), "low": round(lb, 6), "high": round(hb, 6)},
            "difference": round(md, 6),
            "difference_low": round(ld, 6),
            "difference_high": round(hd, 6),
        }
    return out
