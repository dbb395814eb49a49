"""A tool that holds the interpreter (here a regular expression backtracking in C, which no
thread timeout can interrupt) runs in the tool pool: when its time is up its process is
killed, the agent reads a failed result, and meanwhile another run on the same event loop
goes on at its own pace."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from runs.engine import run_team
from runs.engine.interfaces import CancelToken, Journal, RunOutcome, SystemClock
from runs.engine.tools import builtin_registry
from tests.engine.helpers import FAST, RecordingSink, server_models
from tests.factories import make_agent, make_spec
from tests.support import pool_tools
from tests.support.openai_server import Reply
from tests.support.pool_tools import OVERRUN_TIMEOUT_S

TOOLS = builtin_registry().merged(pool_tools.registry)


async def start(agent: str, tool: str, sink: RecordingSink, base_url: str, pid_file: Path):
    team = make_spec("supervisor", [make_agent(agent, model="test", tools=[tool])])
    return await run_team(
        team, "go", journal=Journal(), sink=sink, models=server_models(base_url), tools=TOOLS,
        clock=SystemClock(), cancel=CancelToken(), seed=1, run_id=agent, options=FAST,
        tool_settings={"pid_file": str(pid_file)},
    )  # fmt: skip


async def wait_for(condition, what: str, limit_s: float = 30.0) -> None:
    for _ in range(int(limit_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


async def test_another_run_finishes_while_a_tool_overruns(openai_server, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    # Stuck asks for the backtracking match once; Quick does five sums, one model turn each.
    openai_server.on(
        lambda r: "You are Stuck" in r.system and r.turn == 1,
        Reply.calls(("match_pattern", {"text": "a" * 40 + "!"})),
    )
    openai_server.on(
        lambda r: "You are Quick" in r.system and r.turn <= 5,
        lambda r: Reply.calls(("calculator", {"expression": f"{r.turn} + 1"})),
    )
    openai_server.on(lambda r: True, lambda r: Reply.text("done: " + r.tool_results[-1][:120]))
    stuck_sink, quick_sink = RecordingSink(), RecordingSink()
    base = openai_server.base_url

    stuck = asyncio.create_task(start("stuck", "match_pattern", stuck_sink, base, pid_file))
    await wait_for(pid_file.exists, "the stuck tool to start in its process")
    # While Stuck's tool holds its process, Quick runs start to finish on the same loop.
    quick: RunOutcome = await start("quick", "calculator", quick_sink, base, tmp_path / "q")

    assert quick.status == "succeeded", quick.reason
    assert [e.payload["ok"] for e in quick_sink.of("tool.result")] == [True] * 5
    assert not stuck.done() and not stuck_sink.of("tool.result")

    outcome = await stuck
    assert outcome.status == "succeeded", outcome.reason
    [result] = stuck_sink.of("tool.result")
    assert result.payload["ok"] is False
    assert result.payload["error"] == f"match_pattern did not finish within {OVERRUN_TIMEOUT_S} s."
    # The process that ran it is killed (not left spinning), and the pool still serves.
    pid = int(pid_file.read_text())
    await wait_for(lambda: gone(pid), f"process {pid} to be killed")
    context_free = await TOOLS.call("calculator", {"expression": "6 * 7"}, _context())
    assert context_free.ok and context_free.result["value"] == 42


def _context():
    from runs.engine.interfaces import ToolContext

    return ToolContext("after", "after")
