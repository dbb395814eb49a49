"""No activity starts while a result emitted before it could still be lost: every model call
and every tool call begins with all earlier results stored, so a crash during it never loses
a result it was made after. The engine gets there with at most one wait per activity (its
announcement is durable when a result is not stored yet), not one per result, and none for
the event that ends the run: its caller stores what is queued when the engine returns."""

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from runs.engine import run_team
from runs.engine.events import EPHEMERAL_TYPES, Event
from runs.engine.interfaces import CancelToken, Journal, SystemClock, human_answered
from runs.engine.models import StaticModelRegistry
from runs.engine.tools import builtin_registry
from teams.spec import parse
from tests.engine.helpers import FAST

EXAMPLES = sorted((Path(__file__).parents[2] / "docs" / "examples").glob("*.json"))
TASK = {"text": "Launch our new product to small businesses.", "ticket": "I was charged twice"}


class DurabilitySink:
    """Stores an event when it, or one emitted after it, is emitted durable, as the shell's
    sink does; counts the waits."""

    def __init__(self) -> None:
        self.stored: list[Event] = []
        self.pending: list[Event] = []
        self.waits = 0

    async def emit(self, event: Event, *, durable: bool = True) -> None:
        if event.type in EPHEMERAL_TYPES:
            return
        self.pending.append(event)
        if durable:
            self.stored += self.pending
            self.pending = []
            self.waits += 1

    def close(self) -> None:
        """What the shell does when the engine returns: store what is pending."""
        self.stored += self.pending
        self.pending = []


def is_result(event: Event) -> bool:
    """A model call's answer or a tool's result: the event keyed by its activity."""
    return event.type in ("message", "tool.result") and event.key == event.payload.get(
        "activity_key"
    )


class Activities:
    """Records, at the start of every model and tool call, the results not stored yet."""

    def __init__(self, sink: DurabilitySink) -> None:
        self.sink = sink
        self.unstored_at_start: list[tuple[str, list[str]]] = []

    def started(self, what: str) -> None:
        self.unstored_at_start.append((what, [e.key for e in self.sink.pending if is_result(e)]))

    def models(self) -> Any:
        activities, offline = self, StaticModelRegistry().get("offline")

        class Watched:
            async def complete(self, request: Any, on_delta: Any = None) -> Any:
                activities.started(f"model call {request.activity_key}")
                return await offline.provider.complete(request, on_delta)

        watched = dataclasses.replace(offline, provider=Watched())
        return StaticModelRegistry({"offline": watched})

    def tools(self) -> Any:
        registry = builtin_registry()
        call = registry.call

        async def watched(name: str, arguments: dict[str, Any], context: Any) -> Any:
            self.started(f"tool {name}")
            return await call(name, arguments, context)

        registry.call = watched  # type: ignore[method-assign]
        return registry


async def run_to_the_end(spec: Any) -> tuple[DurabilitySink, Activities]:
    """The team on the offline model until it ends, a person answering whenever it waits."""
    journal: list[Event] = []
    sink = DurabilitySink()
    activities = Activities(sink)
    for _ in range(10):
        outcome = await run_team(
            spec, TASK, journal=Journal(journal), sink=sink, models=activities.models(),
            tools=activities.tools(), clock=SystemClock(), cancel=CancelToken(), seed=7,
            run_id="r", options=FAST,
        )  # fmt: skip
        sink.close()
        journal = list(sink.stored)
        if outcome.status != "waiting":
            break
        request = next(e for e in journal if e.key == outcome.waiting_for)
        journal.append(human_answered(request, {"approved": True}, by="alice", ts=0.0))
        sink.stored = list(journal)
    assert outcome.status == "succeeded", outcome.reason
    return sink, activities


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_every_activity_starts_with_every_result_before_it_stored(path: Path) -> None:
    sink, activities = await run_to_the_end(parse(json.loads(path.read_text())))

    assert activities.unstored_at_start, "the team made no model or tool call"
    assert any(is_result(e) for e in sink.stored), "the team recorded no result"
    unstored = [(what, keys) for what, keys in activities.unstored_at_start if keys]
    assert unstored == []


async def test_a_pipeline_waits_once_per_model_call_not_once_per_event() -> None:
    spec = parse(
        json.loads((Path(__file__).parents[2] / "docs/examples/pipeline.json").read_text())
    )
    sink, activities = await run_to_the_end(spec)

    calls = sum(1 for what, _ in activities.unstored_at_start if what.startswith("model call"))
    tools = len(activities.unstored_at_start) - calls
    gates = sum(1 for e in sink.stored if e.type.startswith("gate."))
    # At most one wait announces each activity (none before the first, nothing to store);
    # gate verdicts are the others. The end is not waited for: the caller stores it.
    assert sink.waits <= (calls - 1) + tools + gates
    assert len(sink.stored) > 2 * sink.waits
