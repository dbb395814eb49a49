"""A model credential's rate limit lives in Redis, so every worker process keeps to it
together: two real processes calling one rate-limited server through one limiter are never
refused, where each on its own would exceed the limit; a 429 one process meets pauses the
other's calls too."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import uuid

import pytest

from tests.support.openai_server import Reply

pytestmark = pytest.mark.redis

# A worker process: reserves a slot for each call, waits for it, then calls the server
# (``pause`` first: as the engine does when a call is answered 429 with Retry-After).
WORKER = textwrap.dedent(
    """
    import sys, time
    import httpx
    from runs.ratelimits import RedisRateLimits
    from runs.engine.ratelimits import Limit

    url, prefix, base_url, calls, rpm, pause = sys.argv[1:7]
    limits = RedisRateLimits(url, prefix)
    if float(pause):
        limits.pause("credential:shared", float(pause))
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    for _ in range(int(calls)):
        time.sleep(limits.reserve("credential:shared", Limit(rpm=int(rpm)), 1))
        answer = httpx.post(base_url + "/chat/completions", json=body, timeout=10)
        print(answer.status_code, time.monotonic(), flush=True)
    """
)


async def worker(base_url: str, prefix: str, calls: int, rpm: int, pause: float = 0) -> list[str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, os.environ["REDIS_URL"], prefix, base_url,
        str(calls), str(rpm), str(pause),
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0
    return out.decode().split("\n")[:-1]


async def test_two_workers_together_keep_to_the_credentials_limit(openai_server):
    openai_server.on(lambda r: True, Reply.text("ok"))
    openai_server.limit_rpm = 300  # 5 a second, a burst of 5
    prefix = f"test-ratelimit-{uuid.uuid4().hex}"

    a, b = await asyncio.gather(
        worker(openai_server.base_url, prefix, 10, 300),
        worker(openai_server.base_url, prefix, 10, 300),
    )

    statuses = [line.split()[0] for line in a + b]
    assert statuses == ["200"] * 20 and openai_server.rejected == 0


async def test_without_the_shared_limiter_the_same_calls_are_refused(openai_server):
    """The control: each process with a limiter of its own (two prefixes) sends twice the
    limit between them, and the server refuses some; the test above is not passing by luck."""
    openai_server.on(lambda r: True, Reply.text("ok"))
    openai_server.limit_rpm = 300
    tag = uuid.uuid4().hex

    await asyncio.gather(
        worker(openai_server.base_url, f"test-ratelimit-a-{tag}", 10, 300),
        worker(openai_server.base_url, f"test-ratelimit-b-{tag}", 10, 300),
    )

    assert openai_server.rejected > 0


async def test_a_pause_in_one_worker_holds_back_the_other(openai_server):
    openai_server.on(lambda r: True, Reply.text("ok"))
    prefix = f"test-ratelimit-{uuid.uuid4().hex}"

    # Worker A is answered 429 with Retry-After: 2 and pauses the credential ...
    await worker(openai_server.base_url, prefix, 0, 600, pause=2.0)
    started = asyncio.get_running_loop().time()
    # ... so worker B, which knows nothing of it, waits before its call.
    [line] = await worker(openai_server.base_url, prefix, 1, 600)

    assert line.split()[0] == "200"
    assert asyncio.get_running_loop().time() - started >= 1.5
