"""An open circuit is shared through Redis, and so is what it means for an agent whose only
model it is: a run on one worker process whose failures open the circuit holds back a run on
another process, which waits for the half-open moment (on its timeline) instead of calling the
failing server, then answers. Two real processes, one Redis."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap
import time
import uuid

import pytest

from tests.support.openai_server import Reply

pytestmark = pytest.mark.redis

# A worker process: runs one team whose agent has one model, its circuit in Redis.
WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from runs.circuits import RedisCircuits
    from runs.engine.circuits import CircuitPolicy
    from runs.engine.interfaces import ResolvedModel
    from runs.engine.models import StaticModelRegistry, make_provider
    from tests.engine.helpers import LOCAL, run
    from teams.spec import parse

    url, prefix, base_url, task = sys.argv[1:5]
    import runs.engine.tools  # what a run imports, before it starts
    circuits = RedisCircuits(url, prefix, CircuitPolicy(failures=2, cooldown_s=4.0))
    provider = make_provider("openai", model="m", base_url=base_url, api_key="k", network=LOCAL)
    circuit = circuits.circuit("credential:shared")
    models = StaticModelRegistry({"only": ResolvedModel("only", provider, "m", circuit=circuit)})
    limits = {"timeout_s": 1.0, "max_retries": 1}
    agent = {"kind": "agent", "id": "solo", "name": "Solo", "model": "only", "limits": limits}
    spec = parse({"pattern": "supervisor", "entry": "solo", "nodes": [agent], "edges": []})

    async def main():
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # the test says when
        outcome, sink = await run(spec, task, models=models)
        waits = [e.payload for e in sink.events if e.type == "circuit.waiting"]
        print(json.dumps({"status": outcome.status, "output": outcome.output, "waits": waits}))

    asyncio.run(main())
    """
)


class Worker:
    """A worker process, started and warmed up before the test tells it to run its team."""

    async def start(self, base_url: str, prefix: str, task: str) -> Worker:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, os.environ["REDIS_URL"], prefix, base_url, task,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )  # fmt: skip
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout=60)
        assert line.strip() == b"ready"
        return self

    async def run(self) -> dict:
        out, _ = await asyncio.wait_for(self.process.communicate(b"go\n"), timeout=60)
        assert self.process.returncode == 0
        return json.loads(out.decode().strip().splitlines()[-1])


async def test_a_circuit_opened_on_one_worker_makes_the_other_wait_for_its_probe(openai_server):
    calls: list[tuple[str, float, int]] = []

    def seen(status: int):
        return lambda r: calls.append((r.user, time.monotonic(), status)) or True

    openai_server.on(lambda r: r.user == "run A" and seen(503)(r), Reply.error(503))
    openai_server.on(seen(200), Reply.text("B answers"))
    prefix = f"test-circuit-{uuid.uuid4().hex}"

    worker_a, worker_b = await asyncio.gather(
        Worker().start(openai_server.base_url, prefix, "run A"),
        Worker().start(openai_server.base_url, prefix, "run B"),
    )

    # Worker A's only model fails twice (its one retry): the circuit opens, and A fails.
    a = await worker_a.run()
    opened_at = calls[-1][1]
    # Worker B, another process, then runs an agent on the same credential.
    b = await worker_b.run()

    assert a["status"] == "failed"
    assert b["status"] == "succeeded" and b["output"] == "B answers"
    # B did not call the failing server while the circuit was open: its one call is the probe
    # after the 4 s cool-down, past its agent's 1 s deadline, and its timeline shows the wait.
    assert [(user, status) for user, _, status in calls] == [("run A", 503)] * 2 + [("run B", 200)]
    assert calls[-1][1] - opened_at >= 3.9
    [waiting] = b["waits"]
    assert waiting["model"] == "only" and 1 < waiting["wait_s"] <= 4
