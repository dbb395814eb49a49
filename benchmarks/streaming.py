"""Streaming: events from the sink to 20 websocket watchers through channels-redis.

What it measures, on this machine:
  1. latency: the sink appends 1,000 events/s for a few seconds; p50/p99 from ``emit`` to the
     watcher's receipt (same clock: all processes run here);
  2. throughput: the sink appends as fast as it can; events/s every watcher receives;
  3. the ceiling: raw Redis PUBLISH of 500-byte messages from one client, one at a time.

The path is the production one: the run's RunSink (stores each batch in the database, then
publishes it to the RedisPubSubChannelLayer), a daphne server with the RunConsumer, and real
websocket clients (in a separate process) authenticated with a bearer token.

Reproduce (PostgreSQL and Redis running):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench SECRET_KEY=bench AUDIT_SIGNING_KEY=YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk= \\
    .venv/bin/python manage.py migrate
    (same variables) .venv/bin/python benchmarks/streaming.py [--watchers 20] [--seconds 5]
The last line is {"events_per_s", "p50_ms", "p99_ms", "redis_publish_per_s"}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FILLER = "x" * 300  # events about the size of a short message event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


# --- the watchers (a separate process) --------------------------------------------------


async def watcher(url: str, token: str, expected: int, ready: asyncio.Event) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    latencies: dict[str, list[float]] = {"latency": [], "throughput": []}
    received: dict[str, list[float]] = {"throughput": []}
    seen = 0
    async with connect(url, additional_headers=[("Authorization", f"Bearer {token}")]) as ws:
        await ws.send(json.dumps({"type": "subscribe", "after_seq": 0}))
        ready.set()
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message["type"] != "events":
                continue
            for event in message["events"]:
                if event["seq"] != seen + 1:
                    raise SystemExit(f"watcher saw seq {event['seq']} after {seen}")
                seen = event["seq"]
                phase = event["payload"]["phase"]
                latencies[phase].append((now - event["payload"]["t"]) * 1000)
                if phase == "throughput":
                    received["throughput"].append(now)
            if seen >= expected:
                break
    times = received["throughput"]
    return {
        "latencies_ms": latencies["latency"],
        "throughput_per_s": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
    }


async def watch(url: str, token: str, watchers: int, expected: int) -> None:
    readies = [asyncio.Event() for _ in range(watchers)]
    tasks = [asyncio.create_task(watcher(url, token, expected, r)) for r in readies]
    for ready in readies:
        await ready.wait()
    print("ready", flush=True)
    results = await asyncio.gather(*tasks)
    print(json.dumps(results), flush=True)


# --- the sink side ----------------------------------------------------------------------


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "orchestration_site.settings")
    os.environ.setdefault("SECRET_KEY", "benchmark-only")
    # Signs the runs' audit heads (a fixed key: benchmarks sign nothing that matters).
    os.environ.setdefault("AUDIT_SIGNING_KEY", "YmVuY2htYXJrcy1vbmx5LW5vdC1hLXNlY3JldC1rZXk=")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
    import django

    django.setup()


def make_run() -> tuple[Any, str]:
    from django.contrib.auth.models import User

    from runs.models import Run
    from teams.models import ApiToken

    user, _ = User.objects.get_or_create(username="streaming-benchmark")
    run = Run.objects.create(owner=user, team_name="benchmark", spec={}, status="running")
    return run, ApiToken.issue(user, "streaming benchmark")[1]


def event(n: int, phase: str) -> Any:
    from runs.engine.events import Event

    payload = {"t": time.time(), "phase": phase, "content": FILLER}
    return Event(
        type="message", key=f"{phase}/{n}", ts=payload["t"], agent="writer", payload=payload
    )


async def append_paced(sink: Any, rate: int, seconds: float) -> int:
    """Emit ``rate`` events/s, in 10 ms ticks, each emitted at its scheduled time."""
    per_tick, tick = rate // 100, 0.01
    start = time.perf_counter()
    pending: list[asyncio.Task[None]] = []
    count = 0
    for t in range(int(seconds / tick)):
        await asyncio.sleep(max(0.0, start + t * tick - time.perf_counter()))
        for _ in range(per_tick):
            pending.append(asyncio.create_task(sink.emit(event(count, "latency"))))
            count += 1
    await asyncio.gather(*pending)
    return count


async def append_flat_out(sink: Any, count: int) -> None:
    for start in range(0, count, 500):
        await asyncio.gather(
            *(sink.emit(event(n, "throughput")) for n in range(start, min(count, start + 500)))
        )


async def redis_publish_rate(seconds: float = 2.0) -> float:
    import redis.asyncio as redis

    client = redis.from_url(os.environ["REDIS_URL"])
    message = b"x" * 500
    count, deadline = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        await client.publish("benchmark.ceiling", message)
        count += 1
    elapsed = time.perf_counter() - start
    await client.aclose()
    return count / elapsed


async def drive(run: Any, rate: int, seconds: float, burst: int) -> None:
    from runs.chain import ChainHead
    from runs.shell.sink import RunSink

    sink = RunSink(run, ChainHead())
    await append_paced(sink, rate, seconds)
    await asyncio.sleep(0.5)  # let the latency phase drain before the burst
    await append_flat_out(sink, burst)
    await sink.close()


def start_daphne(port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "orchestration_site.asgi:application",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):  # 30 s: importing Django on a busy machine takes a while
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("daphne did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watchers", type=int, default=20)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=20000)
    parser.add_argument(
        "--watch", nargs=3, metavar=("URL", "TOKEN", "EXPECTED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.watch:
        url, token, expected = args.watch
        asyncio.run(watch(url, token, args.watchers, int(expected)))
        return
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (and DATABASE_URL): this measures the channels-redis path.")

    setup_django()
    run, token = make_run()
    port = free_port()
    expected = args.rate // 100 * int(args.seconds / 0.01) + args.burst
    server = start_daphne(port)
    watchers = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--watchers",
            str(args.watchers),
            "--watch",
            f"ws://127.0.0.1:{port}/ws/runs/{run.id}/",
            token,
            str(expected),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watchers.stdout is not None
        if watchers.stdout.readline().strip() != "ready":
            raise SystemExit("the watchers did not connect")
        time.sleep(0.5)
        asyncio.run(drive(run, args.rate, args.seconds, args.burst))
        results = json.loads(watchers.stdout.readline())
        watchers.wait(timeout=60)
    finally:
        watchers.kill()
        server.terminate()
        server.wait(timeout=10)
    ceiling = asyncio.run(redis_publish_rate())
    run.delete()

    latencies = [ms for r in results for ms in r["latencies_ms"]]
    throughput = min(r["throughput_per_s"] for r in results)
    figures = {
        "events_per_s": round(throughput),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "redis_publish_per_s": round(ceiling),
    }
    print(f"watchers: {args.watchers}, each received every event in seq order, exactly once")
    print(
        f"latency at {args.rate} events/s for {args.seconds:g} s: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms (target p99 < 50 ms)"
    )
    print(
        f"throughput, sink flat out ({args.burst} events): {figures['events_per_s']} events/s to every watcher"
    )
    print(
        f"ceiling, raw Redis PUBLISH of 500 bytes: {figures['redis_publish_per_s']}/s; ratio {throughput / ceiling:.2f} (target >= 0.33)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
