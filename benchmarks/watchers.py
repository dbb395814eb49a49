"""Watchers: many websocket watchers on one daphne process while a run emits events.

What it measures, on this machine:
  1. memory per idle watcher: the daphne process's resident memory before the watchers
     connect and once every one has subscribed, divided by their number;
  2. latency: the run's sink appends ``--rate`` events/s for ``--seconds``; p50/p99 from the
     append to each watcher's receipt (one clock: every process runs here);
  3. none lost: every watcher checks it receives every seq once and in order (it stops the
     benchmark otherwise) and counts them.

The path is the production one, shared with benchmarks/streaming.py: the RunSink (stores each
batch, then publishes to the RedisPubSubChannelLayer), a daphne process with the RunConsumer,
real websocket clients in a separate process, authenticated with a bearer token. The
per-person websocket quotas are raised for the benchmark's one user.

Reproduce (PostgreSQL and Redis running; the same variables as benchmarks/streaming.py):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench .venv/bin/python benchmarks/watchers.py \\
    [--watchers 1000] [--rate 200] [--seconds 10]
The last line is {"watchers", "rate", "p50_ms", "p99_ms", "lost", "rss_per_idle_watcher_kb"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The benchmarks folder is not a package: import its neighbour by path.
from streaming import (
    drive,
    free_port,
    make_run,
    percentile,
    setup_django,
    start_daphne,
)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (and DATABASE_URL): this measures the channels-redis path.")
    # A socket per watcher on both sides, inherited by daphne and the watchers' process.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ["QUOTA_WEBSOCKET_CONNECTS"] = f"{args.watchers * 10}/minute"
    os.environ["QUOTA_WEBSOCKET_SUBSCRIBES"] = f"{args.watchers * 10}/minute"

    setup_django()
    run, token = make_run()
    port = free_port()
    expected = args.rate // 100 * int(args.seconds / 0.01)
    server = start_daphne(port)
    time.sleep(2)  # let it settle before the first reading
    idle_before = rss_kb(server.pid)
    streaming = str(Path(__file__).resolve().parent / "streaming.py")
    watchers = subprocess.Popen(
        [sys.executable, streaming, "--watchers", str(args.watchers), "--watch",
         f"ws://127.0.0.1:{port}/ws/runs/{run.id}/", token, str(expected)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert watchers.stdout is not None
        if watchers.stdout.readline().strip() != "ready":
            raise SystemExit("the watchers did not connect")
        time.sleep(2)
        idle_after = rss_kb(server.pid)
        asyncio.run(drive(run, args.rate, args.seconds, 0))
        results = json.loads(watchers.stdout.readline())
        watchers.wait(timeout=120)
    finally:
        watchers.kill()
        server.terminate()
        server.wait(timeout=10)
    run.delete()

    latencies = [ms for r in results for ms in r["latencies_ms"]]
    received = [len(r["latencies_ms"]) for r in results]
    figures = {
        "watchers": args.watchers,
        "rate": args.rate,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "lost": sum(expected - n for n in received),
        "rss_per_idle_watcher_kb": round((idle_after - idle_before) / args.watchers, 1),
    }
    print(
        f"{args.watchers} watchers on one daphne process, {args.rate} events/s for {args.seconds:g} s"
    )
    print(
        f"latency append -> receipt: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms (target p99 < 100 ms)"
    )
    print(
        f"events lost: {figures['lost']} of {expected} per watcher (each checked its seqs in order)"
    )
    print(f"daphne resident memory per idle watcher: {figures['rss_per_idle_watcher_kb']} KiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
