"""Calls per second of the built-in tools on their shipped sample data, through the registry
(argument validation, timeout, output cap included), one call at a time.

Reproduce:  make install && .venv/bin/python benchmarks/tools_throughput.py

- <tool>_calls_per_s: the median rate over several repeats of a batch of calls. lint_diff and
  security_scan_diff start ruff and bandit in the tool sandbox, so they are far slower than the
  others; make_chart renders a PNG with matplotlib. calculator, sql_query, reconcile,
  search_documents, seo_audit and make_chart's drawing run in the tool process pool, so their
  rate includes a round trip to a child process.
- Run as root, the checkers run as TOOLS_SANDBOX_USER (default nobody); where that user cannot
  run this Python (it lives under /root), set TOOLS_SANDBOX_USER= to measure.
- guarded_checks_per_s: NetworkPolicy.check_address on a public address (what every outgoing
  connection pays before connecting, besides DNS).

The last line is the JSON summary.
"""

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry
from runs.engine.tools.netguard import NetworkPolicy
from runs.engine.tools.paths import DATA_DIR

DIFF = (DATA_DIR / "samples" / "code_review.diff").read_text()
CALLS: dict[str, tuple[dict[str, Any], int]] = {
    "calculator": ({"expression": "(59083.25 - 51480.42) * 1.2"}, 200),
    "sql_query": ({"query": "SELECT account_code, SUM(debit) - SUM(credit) FROM ledger GROUP BY 1"}, 100),
    "reconcile": ({}, 50),
    "search_documents": ({"query": "heat pump running costs", "collection": "research"}, 100),
    "seo_audit": ({"text": (DATA_DIR / "documents/research/heat-pump-costs.md").read_text(), "keyword": "heat pump"}, 100),
    "make_chart": ({"labels": ["Aug", "Sep", "Oct"], "series": {"Revenue": [1, 2, 3]}}, 5),
    "lint_diff": ({"diff": DIFF}, 3),
    "security_scan_diff": ({"diff": DIFF}, 3),
}  # fmt: skip
REPEATS = 3


class DiscardArtifacts:
    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        return {"id": "1", "name": name, "content_type": content_type, "url": "about:blank"}


async def rate(name: str, args: dict[str, Any], batch: int, context: ToolContext) -> float:
    registry = builtin_registry()
    first = await registry.call(name, args, context)  # warm caches (dataset build, index)
    assert first.ok, first.error
    rates = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(batch):
            await registry.call(name, args, context)
        rates.append(batch / (time.perf_counter() - start))
    return round(statistics.median(rates), 1)


def guard_rate() -> float:
    policy, count = NetworkPolicy(), 100_000
    start = time.perf_counter()
    for _ in range(count):
        policy.check_address("example.com", "93.184.215.14")
    return round(count / (time.perf_counter() - start))


async def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        settings = {
            "data_cache_dir": cache,
            "sandbox_user": os.environ.get("TOOLS_SANDBOX_USER", "nobody"),
        }
        context = ToolContext("bench", "bench", DiscardArtifacts(), settings)
        figures = {f"{n}_calls_per_s": await rate(n, a, b, context) for n, (a, b) in CALLS.items()}
    figures["guarded_checks_per_s"] = guard_rate()
    return figures


if __name__ == "__main__":
    result = asyncio.run(main())
    for name, value in result.items():
        print(f"{name:36}{value:>12}")
    print(json.dumps(result))
