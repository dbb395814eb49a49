"""Tools run with the run's context, and a tool's own failure goes back to the agent."""

from pydantic import BaseModel

from runs.engine import run_team
from runs.engine.interfaces import CancelToken, Journal, SystemClock
from runs.engine.models import StaticModelRegistry
from runs.engine.tools import Registry, ToolFailure
from tests.engine.helpers import FAST, RecordingSink
from tests.factories import make_agent, make_spec

tools = Registry()


class ChartArgs(BaseModel):
    title: str


class Store:
    def __init__(self) -> None:
        self.saved: list[str] = []

    async def save(self, name: str, data: bytes, content_type: str) -> dict:
        self.saved.append(name)
        return {"id": "a1", "name": name, "content_type": content_type, "url": "/artifacts/a1"}


@tools.tool("make_chart", "Draw a chart.")
async def make_chart(args: ChartArgs, context) -> dict:
    if context.settings.get("charts_disabled"):
        raise ToolFailure("Charts are turned off on this server.")
    reference = await context.artifacts.save(f"{args.title}.svg", b"<svg/>", "image/svg+xml")
    return {"artifact": reference, "agent": context.agent}


async def run_with(settings: dict) -> tuple[RecordingSink, Store]:
    sink, store = RecordingSink(), Store()
    spec = make_spec("supervisor", [make_agent("analyst", tools=["make_chart"])])
    await run_team(
        spec, {"title": "Revenue"}, journal=Journal(), sink=sink, models=StaticModelRegistry(),
        tools=tools, clock=SystemClock(), cancel=CancelToken(), seed=1, run_id="r1",
        options=FAST, artifacts=store, tool_settings=settings,
    )  # fmt: skip
    return sink, store


async def test_a_tool_gets_the_runs_artifact_store_and_settings():
    sink, store = await run_with({})

    assert store.saved == ["Revenue.svg"]
    [result] = sink.of("tool.result")
    assert result.payload["ok"] and result.payload["result"]["agent"] == "analyst"
    assert result.payload["result"]["artifact"]["url"] == "/artifacts/a1"


async def test_a_tools_failure_is_read_by_the_agent_not_fatal():
    sink, store = await run_with({"charts_disabled": True})

    [result] = sink.of("tool.result")
    assert (
        result.payload["ok"] is False
        and result.payload["error"] == "Charts are turned off on this server."
    )
    assert sink.types()[-1] == "run.finished" and store.saved == []
    final = sink.of("run.finished")[0].payload["output"]
    assert "Charts are turned off" in final
