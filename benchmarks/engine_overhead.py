"""Engine overhead per agent step, and fan-out concurrency, beside LangGraph.

Reproduce:  .venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/engine_overhead.py

- pipeline_us_per_step: a 5-stage pipeline on a zero-latency model, microseconds of engine time
  per agent step (one model call each), with every event built and handed to an in-memory sink.
- supervisor_us_per_step: a supervisor delegating to 3 workers in one turn, then answering
  (5 model calls per run).
- fanout_ratio: wall time of the supervisor run when each worker's model call takes 200 ms,
  divided by 200 ms (1.0 would be perfect concurrency; the supervisor's own calls are instant).
- langgraph_*: the same topologies in LangGraph (StateGraph; Send for the fan-out), calling the
  same zero-latency model, in the same process. Omitted (null) without the ``bench`` extra.

Each figure is the best of several repeats, ours and LangGraph's alternating so that load\nfrom other processes falls on both; the last line is the JSON summary.
"""

import asyncio
import json
import operator
import statistics
import sys
import time
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runs.engine import run_team
from runs.engine.interfaces import (
    CancelToken,
    Journal,
    ModelRequest,
    ModelResponse,
    ResolvedModel,
    SystemClock,
    ToolCall,
    Usage,
)
from runs.engine.models import StaticModelRegistry
from runs.engine.tools import Registry
from teams.spec import parse

RUNS = 200
REPEATS = 7
WORKERS = ("w1", "w2", "w3")


class InstantModel:
    """Answers at once; delegates to every worker on a supervisor's first turn. ``worker_delay_s``
    makes workers' calls slow, for the fan-out measurement."""

    def __init__(self, worker_delay_s: float = 0.0) -> None:
        self.worker_delay_s = worker_delay_s

    async def complete(self, request: ModelRequest, on_delta: Any = None) -> ModelResponse:
        delegates = [t.name for t in request.tools if t.name.startswith("delegate_to_")]
        answered = any(m.role == "tool" for m in request.messages)
        if delegates and not answered:
            calls = tuple(ToolCall(f"c{i}", n, '{"task": "x"}') for i, n in enumerate(delegates))
            return ModelResponse(None, calls, Usage(10, 5))
        if self.worker_delay_s and not delegates:
            await asyncio.sleep(self.worker_delay_s)
        return ModelResponse("ok", (), Usage(10, 5))


class NullSink:
    def __init__(self) -> None:
        self.count = 0

    async def emit(self, event: Any, *, durable: bool = True) -> None:
        self.count += 1


def pipeline_spec():
    stages = [f"s{i}" for i in range(5)]
    nodes = [{"kind": "agent", "id": s, "name": s, "model": "instant"} for s in stages]
    edges = [
        {"id": f"{a}-{b}", "source": a, "target": b, "kind": "next"} for a, b in pairwise(stages)
    ]
    return parse({"pattern": "pipeline", "entry": "s0", "nodes": nodes, "edges": edges})


def supervisor_spec():
    nodes = [{"kind": "agent", "id": i, "name": i, "model": "instant"} for i in ("boss", *WORKERS)]
    edges = [
        {"id": f"boss-{w}", "source": "boss", "target": w, "kind": "delegates"} for w in WORKERS
    ]
    return parse({"pattern": "supervisor", "entry": "boss", "nodes": nodes, "edges": edges})


async def ours(spec: Any, model: InstantModel) -> None:
    models = StaticModelRegistry({"instant": ResolvedModel("instant", model, "instant")})
    outcome = await run_team(
        spec, "go", journal=Journal(), sink=NullSink(), models=models, tools=Registry(),
        clock=SystemClock(), cancel=CancelToken(), seed=1, run_id="bench",
    )  # fmt: skip
    assert outcome.status == "succeeded", outcome.reason


def langgraph_pipeline(model: InstantModel) -> Any:
    from langgraph.graph import END, START, StateGraph

    class State(TypedDict):
        text: str

    def stage(name: str) -> Any:
        async def run(state: State) -> dict[str, str]:
            request = ModelRequest("instant", ())
            response = await model.complete(request)
            return {"text": response.content or ""}

        return run

    graph = StateGraph(State)
    names = [f"s{i}" for i in range(5)]
    for name in names:
        graph.add_node(name, stage(name))
    graph.add_edge(START, names[0])
    for a, b in pairwise(names):
        graph.add_edge(a, b)
    graph.add_edge(names[-1], END)
    return graph.compile()


def langgraph_supervisor(model: InstantModel) -> Any:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import Send

    from runs.engine.interfaces import ChatMessage, ToolSchema

    delegate_tools = tuple(ToolSchema(f"delegate_to_{w}", "", {}) for w in WORKERS)

    class State(TypedDict):
        results: Annotated[list[str], operator.add]
        answer: str

    async def boss(state: State) -> dict[str, Any]:
        messages = tuple(ChatMessage("tool", r) for r in state["results"])
        response = await model.complete(ModelRequest("instant", messages, delegate_tools))
        return {"answer": response.content or ""}

    def route(state: State) -> Any:
        if state["answer"]:
            return END
        return [Send(w, state) for w in WORKERS]

    async def worker(state: State) -> dict[str, Any]:
        response = await model.complete(ModelRequest("instant", ()))
        return {"results": [response.content or ""]}

    graph = StateGraph(State)
    graph.add_node("boss", boss)
    for w in WORKERS:
        graph.add_node(w, worker)
        graph.add_edge(w, "boss")
    graph.add_edge(START, "boss")
    graph.add_conditional_edges("boss", route, [*WORKERS, END])
    return graph.compile()


async def per_step(run_once: Any, steps: int) -> float:
    started = time.perf_counter()
    for _ in range(RUNS):
        await run_once()
    return (time.perf_counter() - started) / (RUNS * steps) * 1e6


async def compare(contenders: dict[str, Any], steps: int) -> dict[str, float]:
    """Microseconds per step for each contender. Repeats alternate between them so a busy
    machine slows all alike, and the best repeat counts (the least disturbed one)."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for run_once in contenders.values():
        for _ in range(20):  # warm up
            await run_once()
    for _ in range(REPEATS):
        for name, run_once in contenders.items():
            samples[name].append(await per_step(run_once, steps))
    return {name: round(min(values), 1) for name, values in samples.items()}


async def fanout_ratio() -> float:
    spec, model = supervisor_spec(), InstantModel(worker_delay_s=0.2)
    samples = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await ours(spec, model)
        samples.append((time.perf_counter() - started) / 0.2)
    return round(statistics.median(samples), 3)


async def main() -> dict[str, Any]:
    instant = InstantModel()
    pipeline, supervisor = pipeline_spec(), supervisor_spec()
    ours_pipeline: dict[str, Any] = {"ours": lambda: ours(pipeline, instant)}
    ours_supervisor: dict[str, Any] = {"ours": lambda: ours(supervisor, instant)}
    try:
        lg_pipeline, lg_supervisor = langgraph_pipeline(instant), langgraph_supervisor(instant)
    except ImportError:
        print("LangGraph is not installed (pip install -e '.[bench]'); its figures are null.")
    else:
        ours_pipeline["langgraph"] = lambda: lg_pipeline.ainvoke({"text": "go"})
        ours_supervisor["langgraph"] = lambda: lg_supervisor.ainvoke({"results": [], "answer": ""})
    pipeline_figures = await compare(ours_pipeline, 5)
    supervisor_figures = await compare(ours_supervisor, 5)
    return {
        "pipeline_us_per_step": pipeline_figures["ours"],
        "supervisor_us_per_step": supervisor_figures["ours"],
        "langgraph_pipeline_us_per_step": pipeline_figures.get("langgraph"),
        "langgraph_supervisor_us_per_step": supervisor_figures.get("langgraph"),
        "fanout_ratio": await fanout_ratio(),
    }


if __name__ == "__main__":
    result = asyncio.run(main())
    print(f"{'':28}{'ours':>12}{'LangGraph':>12}   (microseconds per agent step)")
    for topology in ("pipeline", "supervisor"):
        theirs = result[f"langgraph_{topology}_us_per_step"]
        print(
            f"{topology:28}{result[f'{topology}_us_per_step']:>12}{theirs if theirs is not None else '-':>12}"
        )
    print(f"3-way fan-out of 200 ms workers: {result['fanout_ratio']} x 200 ms")
    print(json.dumps(result))
