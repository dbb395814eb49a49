"""Runs sharing one rate-limited credential on two worker processes.

200 runs of three model calls each (a pipeline of three agents) are enqueued at once onto two
Celery worker processes. Every call uses one operator credential whose ``rpm`` is 600, and the
local OpenAI-compatible server behind it (tests/support/openai_server.py, in a child process)
enforces that limit like a provider: a bucket of 10 requests refilled at 600 a minute, a 429
with ``Retry-After`` when it is empty. The workers' shared limiter (Redis) should keep the
calls at the limit without storming: 600 calls at 600 a minute is one minute of calls, so the
benchmark takes a bit over a minute.

Two figures, from the server's side:
- ``achieved_rpm``: the calls it accepted per minute, between the first and the last
  accepted call; ``ratio`` is that over the limit (target >= 0.95);
- ``rejected_pct``: the share of calls it answered 429 (target <= 1 %).

Reproduce (PostgreSQL and Redis running, database migrated with the same variables:
.venv/bin/python manage.py migrate):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench SECRET_KEY=bench AUDIT_SIGNING_KEY=YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \\
    .venv/bin/python benchmarks/rate_limited.py [--runs 200] [--steps 3] [--rpm 600] [--unlimited]
``--unlimited`` gives the credential no ``rpm`` (the server still limits): what the same runs
do without the limiter, for comparison. The last line is {"runs", "limit_rpm",
"achieved_rpm", "ratio", "rejected_pct"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The benchmarks folder is not a package: import the neighbours by path.
from _stack import _Discard, setup_django, start_worker
from concurrent_runs import (
    check,
    enqueue_runs,
    forget_earlier_runs,
    make_team,
    wait_all,
)

MODEL_DELAY_S = 0.2


async def serve(rpm: int) -> None:
    """The child process: the rate-limited server; its URL on stdout, then, when stdin
    closes, what it accepted and refused (one JSON line)."""
    from tests.support.openai_server import Reply, ScriptedOpenAIServer

    server = ScriptedOpenAIServer(limit_rpm=rpm)
    server.on(lambda r: True, Reply.text("Done.", delay_s=MODEL_DELAY_S))
    server.log = _Discard()  # it would hold every request of the benchmark
    print(await server.start(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()
    print(json.dumps({"accepted_at": server.accepted_at, "rejected": server.rejected}), flush=True)


def start_model_server(rpm: int) -> tuple[subprocess.Popen[bytes], str]:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--rpm", str(rpm)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    assert server.stdout is not None
    return server, server.stdout.readline().decode().strip()


def server_figures(server: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.close()
    figures = json.loads(server.stdout.readline())
    server.wait(timeout=10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=3, help="model calls per run")
    parser.add_argument("--rpm", type=int, default=600, help="the credential's and server's limit")
    parser.add_argument("--unlimited", action="store_true", help="no rpm on the credential")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.rpm))
        return
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL and DATABASE_URL: this measures Celery workers.")
    # A prefix of its own: no limiter state left by an earlier measurement.
    os.environ["MODEL_RATE_LIMIT_PREFIX"] = f"bench-ratelimit-{uuid.uuid4().hex}"
    setup_django(**({} if args.unlimited else {"rpm": args.rpm}))
    server, base_url = start_model_server(args.rpm)
    team = make_team(base_url, args.steps)
    forget_earlier_runs(team)
    workers = [start_worker(args.runs // 2 + 10, name=f"ratelimited{n}") for n in range(2)]
    try:
        started = time.time()
        ids, _ = enqueue_runs(team, args.runs)
        ended = wait_all(ids, 120 + 3 * args.runs * args.steps * 60 / args.rpm)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        figures = server_figures(server)
    if args.unlimited:  # runs whose calls kept being refused fail: counted, not checked
        from runs.models import Run

        succeeded = Run.objects.filter(id__in=ids, status="succeeded").count()
    else:
        check(ids)  # every run succeeded, its audit chain intact
        succeeded = len(ids)
    accepted, rejected = figures["accepted_at"], figures["rejected"]
    span_s = accepted[-1] - accepted[0]
    achieved = (len(accepted) - 1) * 60 / span_s if span_s > 0 else 0.0
    ratio = achieved / args.rpm
    rejected_pct = 100 * rejected / max(1, len(accepted) + rejected)
    limiter = "no rpm on the credential" if args.unlimited else f"rpm {args.rpm} on the credential"
    print(f"{args.runs} runs x {args.steps} calls on two worker processes, one credential "
          f"({limiter}); the server allows {args.rpm} requests a minute")  # fmt: skip
    print(f"{succeeded} of {len(ids)} runs succeeded; the last ended {ended - started:.1f} s "
          "after enqueueing")  # fmt: skip
    print(f"accepted {len(accepted)} calls over {span_s:.1f} s: {achieved:.1f} a minute, "
          f"ratio {ratio:.3f} to the limit (target >= 0.95)")  # fmt: skip
    print(f"answered 429: {rejected} calls, {rejected_pct:.2f} % (target <= 1 %)")
    print(json.dumps({"runs": args.runs, "limit_rpm": args.rpm, "achieved_rpm": round(achieved, 1),
                      "ratio": round(ratio, 3), "rejected_pct": round(rejected_pct, 2)}))  # fmt: skip


if __name__ == "__main__":
    main()
