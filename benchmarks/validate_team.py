"""How fast a team is parsed and validated: the builder calls this on every edit.

Reproduce:  .venv/bin/python benchmarks/validate_team.py

- examples_per_s: the four docs/examples documents, parsed and validated, documents per second.
- largest_per_s: the largest team TeamSpec allows (a 200-stage pipeline with 199 gated edges,
  each agent with a tool and an output schema), parsed and validated, per second.
- largest_ms: the same as milliseconds per validation: what one builder edit waits for, with
  the schema verdicts already remembered (the usual case: an edit changes one thing).
- largest_cold_ms: the same team validated once with nothing remembered and all 399 schemas
  different: the first validation after a server start, the worst case.
- nested_per_s, nested_ms: the worst nested team within the limits (MAX_INLINED_NODES): a
  100-node pipeline whose team node refers to a saved 200-node pipeline that refers to a saved
  199-node one, 499 nodes inlined, every one validated (saved teams come from memory here; the
  shell looks each one up once). nested_budget_share is nested_ms over the 100 ms budget.
- wide_ms: a supervisor delegating to 199 team nodes, each a different saved one-agent team:
  the most lookups and nested validations within the cap.
- fan_out_refused_ms: the attack from issue 16 (fan-out 20 at depth 4, 336,841 nodes inlined):
  how long it takes to be refused.

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

from teams.nesting import MAX_INLINED_NODES  # noqa: E402
from teams.spec import MAX_NODES, TeamSpec, parse  # noqa: E402
from teams.validation import ValidationContext, _schema_problem, validate  # noqa: E402

CONTEXT = ValidationContext(known_tools=frozenset({"calculator"}))


def largest_team(distinct: bool = False, size: int = MAX_NODES) -> dict[str, Any]:
    ids = [f"stage{i}" for i in range(size)]
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


def referring_to(document: dict[str, Any], team_id: int) -> dict[str, Any]:
    """``document`` with its last stage replaced by a team node naming saved team ``team_id``."""
    last = document["nodes"][-1]["id"]
    team = {"kind": "team", "id": last, "name": last, "team_id": team_id}
    return {**document, "nodes": [*document["nodes"][:-1], team]}


# The worst nested team within the limits: 100 + 200 + 199 nodes, each validated.
SAVED = {
    2: parse(largest_team(size=MAX_NODES - 1)),
    1: parse(referring_to(largest_team(), 2)),
}
NESTED = referring_to(largest_team(size=MAX_INLINED_NODES - 2 * MAX_NODES + 1), 1)


def fanning_out(child: int | None, width: int) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = [
        {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Delegate."}
    ]
    edges = []
    for i in range(width):
        team_id = child if child is not None else 100 + i
        nodes.append({"kind": "team", "id": f"t{i}", "name": f"T{i}", "team_id": team_id})
        edges.append({"id": f"e{i}", "source": "lead", "target": f"t{i}", "kind": "delegates"})
    return {"pattern": "supervisor", "entry": "lead", "nodes": nodes, "edges": edges}


ONE_AGENT = {
    "pattern": "supervisor",
    "entry": "lead",
    "nodes": [{"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Answer."}],
}
SAVED |= {100 + i: parse(ONE_AGENT) for i in range(MAX_NODES)}
WIDE = fanning_out(None, MAX_NODES - 1)
# Fan-out 20 at depth 4: team 10 is one agent, team 10 + k fans out to team 10 + k - 1.
SAVED |= {10: parse(ONE_AGENT), **{10 + k: parse(fanning_out(10 + k - 1, 20)) for k in (1, 2, 3)}}
FAN_OUT = fanning_out(13, 20)


def lookup(team_id: int) -> TeamSpec | None:
    return SAVED.get(team_id)


NESTED_CONTEXT = ValidationContext(known_tools=frozenset({"calculator"}), lookup=lookup)


def rate(
    documents: list[dict[str, Any]], seconds: float = 1.0, context: ValidationContext = CONTEXT
) -> float:
    """Documents parsed and validated per second, over about ``seconds``."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for document in documents:
            problems = validate(parse(document), context)
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


def refused_ms() -> float:
    start = time.perf_counter()
    problems = validate(parse(FAN_OUT), NESTED_CONTEXT)
    assert [p.code for p in problems] == ["team_too_large"], problems
    return (time.perf_counter() - start) * 1000


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
    nested_per_s = median_of(lambda: rate([NESTED], context=NESTED_CONTEXT))
    wide_per_s = median_of(lambda: rate([WIDE], context=NESTED_CONTEXT))
    refused = median_of(refused_ms)
    print(
        f"worst nested team within the limits ({MAX_INLINED_NODES - 1} nodes inlined): "
        f"{nested_per_s:,.1f}/s, {1000 / nested_per_s:.1f} ms each, "
        f"{10 / nested_per_s:.0%} of the 100 ms budget"
    )
    print(f"199 different saved teams: {wide_per_s:,.1f}/s, {1000 / wide_per_s:.1f} ms each")
    print(f"fan-out 20 at depth 4 (336,841 nodes inlined) refused in {refused:.1f} ms")
    summary = {
        "examples_per_s": round(examples_per_s),
        "largest_per_s": round(largest_per_s, 1),
        "largest_ms": round(1000 / largest_per_s, 2),
        "largest_cold_ms": round(cold, 1),
        "nested_per_s": round(nested_per_s, 1),
        "nested_ms": round(1000 / nested_per_s, 2),
        "nested_budget_share": round(10 / nested_per_s, 3),
        "wide_ms": round(1000 / wide_per_s, 2),
        "fan_out_refused_ms": round(refused, 2),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
