"""CPU per model call through the ``openai`` provider (the official client), by answer shape.

Reproduce:  make install && .venv/bin/python benchmarks/model_call_overhead.py [--calls 2000]

The scripted OpenAI-compatible server (tests/support/openai_server.py) runs in a child process
and answers at once, so what is measured is this process's own work per
``OpenAIProvider.complete``: building the request, sending it, reading and parsing the stream,
assembling the answer. ``--concurrency`` calls (50 by default) are in flight at a time, as when
one worker carries many runs.

- text_cpu_us_per_call: "Done after a second." streamed in a few chunks, with usage, and every
  delta handed to a callback (what a concurrent_runs.py model call is).
- tool_call_cpu_us_per_call: two tool calls, each streamed as an opening and two argument
  fragments, with tools in the request.
- *_calls_per_cpu_s: the same figure as calls per second of CPU on one core.

Each figure is the median of several repeats (process CPU time, so load from other processes
does not count); the last line is the JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runs.engine.interfaces import ChatMessage, ModelRequest, ToolSchema  # noqa: E402
from runs.engine.models import make_provider  # noqa: E402
from runs.engine.tools.netguard import NetworkPolicy  # noqa: E402

REPEATS = 5
TOOL = ToolSchema(
    "lookup", "Look something up.", {"type": "object", "properties": {"q": {"type": "string"}}}
)
SHAPES = {
    "text": ModelRequest(
        "bench",
        (ChatMessage("system", "You are Writer."), ChatMessage("user", "Write it.")),
        timeout_s=60.0,
    ),
    "tool_call": ModelRequest(
        "bench",
        (ChatMessage("system", "You are Researcher."), ChatMessage("user", "Use the tool.")),
        tools=(TOOL,),
        timeout_s=60.0,
    ),
}


async def serve() -> None:
    """The child process: the scripted server, its URL on stdout, until stdin closes."""
    from tests.support.openai_server import Reply, ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    calls = Reply.calls(("lookup", {"q": "heat pumps"}), ("lookup", {"q": "boilers"}))
    server.on(lambda r: bool(r.tool_names), calls)
    server.on(lambda r: True, Reply.text("Done after a second."))
    # The log would grow by one request per call for the whole benchmark.
    server.log = _Discard()
    print(await server.start(), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await server.stop()


class _Discard(list):
    def append(self, item: Any) -> None:
        pass


async def cpu_us_per_call(base_url: str, request: ModelRequest, calls: int, concurrency: int):
    # The local server is allowed as an operator credential's host would be.
    local = NetworkPolicy.allowing(["127.0.0.1"])
    provider = make_provider("openai", model="bench", base_url=base_url, api_key="k", network=local)
    deltas = 0

    async def on_delta(text: str) -> None:
        nonlocal deltas
        deltas += 1

    async def caller(n: int) -> None:
        for i in range(n):
            await provider.complete(
                ModelRequest(**{**request.__dict__, "activity_key": f"bench/{n}/{i}"}), on_delta
            )

    await asyncio.gather(*(caller(2) for _ in range(concurrency)))  # warm up: connections, imports
    share, extra = divmod(calls, concurrency)
    started = time.process_time()
    await asyncio.gather(*(caller(share + (i < extra)) for i in range(concurrency)))
    used = time.process_time() - started
    await provider.close()
    return used / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve())
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        base_url = server.stdout.readline().decode().strip()
        figures: dict[str, float] = {}
        for shape, request in SHAPES.items():
            samples = [
                asyncio.run(cpu_us_per_call(base_url, request, args.calls, args.concurrency))
                for _ in range(REPEATS)
            ]
            us = statistics.median(samples)
            figures[f"{shape}_cpu_us_per_call"] = round(us)
            figures[f"{shape}_calls_per_cpu_s"] = round(1e6 / us)
            print(f"{shape:10} {us:8.0f} CPU us per call   {1e6 / us:7.0f} calls per CPU second")
    finally:
        server.communicate(b"")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
