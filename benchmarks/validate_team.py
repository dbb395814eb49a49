"""How fast a team is parsed and validated: the builder calls this on every edit.

Reproduce:  .venv/bin/python benchmarks/validate_team.py

- examples_per_s: the four docs/examples documents, parsed and validated, documents per second.
- largest_per_s: the largest team TeamSpec allows (a 200-stage pipeline with 199 gated edges,
  each agent with a tool and an output schema), parsed and validated, per second.
- largest_ms: the same as milliseconds per validation: what one builder edit waits for, with
  the schema verdicts already remembered (the usual case: an edit changes one thing).
- largest_cold_ms: the same team validated once with nothing remembered and all 399 schemas
  different: the first validation after a server start, the worst case.

Each figure is the median of 5 repeats; the last line is the JSON summary.
"""

import json
import statistics
import sys
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from teams.spec import MAX_NODES, parse  # noqa: E402
from teams.validation import ValidationContext, _schema_problem, validate  # noqa: E402

CONTEXT = ValidationContext(known_tools=frozenset({"calculator"}))


def largest_team(distinct: bool = False) -> dict[str, Any]:
    ids = [f"stage{i}" for i in range(MAX_NODES)]
    nodes = [
        {
            "kind": "agent",
            "id": i,
            "name": i,
            "instructions": "Use the calculator.",
            "tools": ["calculator"],
            "output_schema": {
                "type": "object",
                "properties": {"x": {"type": "number"}},
                "title": i if distinct else "stage",
            },
        }
        for i in ids
    ]
    edges = [
        {
            "id": f"{a}-{b}",
            "source": a,
            "target": b,
            "kind": "next",
            "gate": {
                "kind": "schema",
                "schema": {"type": "object", "title": a if distinct else "gate"},
                "max_attempts": 2,
            },
        }
        for a, b in pairwise(ids)
    ]
    return {"pattern": "pipeline", "entry": ids[0], "nodes": nodes, "edges": edges}


def rate(documents: list[dict[str, Any]], seconds: float = 1.0) -> float:
    """Documents parsed and validated per second, over about ``seconds``."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for document in documents:
            problems = validate(parse(document), CONTEXT)
            assert not [p for p in problems if p.severity == "error"], problems
        done += len(documents)
    return done / (time.perf_counter() - start)


def cold_ms() -> float:
    document = largest_team(distinct=True)
    _schema_problem.cache_clear()
    start = time.perf_counter()
    validate(parse(document), CONTEXT)
    return (time.perf_counter() - start) * 1000


def median_of(measure: Callable[[], float], repeats: int = 5) -> float:
    return statistics.median(measure() for _ in range(repeats))


def main() -> None:
    examples = [json.loads(p.read_text()) for p in sorted((ROOT / "docs/examples").glob("*.json"))]
    big = largest_team()
    examples_per_s = median_of(lambda: rate(examples))
    largest_per_s = median_of(lambda: rate([big]))
    print(f"examples: {examples_per_s:,.0f} documents/s")
    cold = median_of(cold_ms)
    print(f"largest team, cold: {cold:.0f} ms")
    print(
        f"largest team ({MAX_NODES} nodes): {largest_per_s:,.1f}/s, {1000 / largest_per_s:.1f} ms each"
    )
    summary = {
        "examples_per_s": round(examples_per_s),
        "largest_per_s": round(largest_per_s, 1),
        "largest_ms": round(1000 / largest_per_s, 2),
        "largest_cold_ms": round(cold, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
