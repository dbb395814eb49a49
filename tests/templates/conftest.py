"""Running a shipped template the honest, fast way: the engine itself, on the offline model,
with the real built-in tools and sample data, and an in-memory event sink."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from runs.engine import run_team
from runs.engine.events import Event
from runs.engine.interfaces import CancelToken, Journal, ResolvedModel, RunOutcome, SystemClock
from runs.engine.models import StaticModelRegistry
from runs.engine.tools.builtin import registry
from teams.spec import TeamSpec
from teams.team_templates import TEMPLATES_DIR, ShippedTemplate, load
from tests.support.sandbox import sandbox_user


@dataclass
class MemorySink:
    events: list[Event] = field(default_factory=list)

    async def emit(self, event: Event, *, durable: bool = True) -> None:
        self.events.append(event)

    def of_type(self, event_type: str) -> list[Event]:
        return [e for e in self.events if e.type == event_type]


@dataclass
class MemoryArtifacts:
    """Implements ``ArtifactStore``: what a run's tools saved, kept in memory."""

    files: dict[str, bytes] = field(default_factory=dict)

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        artifact_id = str(len(self.files) + 1)
        self.files[artifact_id] = data
        return {"id": artifact_id, "name": name, "content_type": content_type,
                "url": f"memory://{artifact_id}"}  # fmt: skip


@dataclass
class TemplateRun:
    outcome: RunOutcome
    sink: MemorySink
    artifacts: MemoryArtifacts

    def of_type(self, event_type: str) -> list[Event]:
        return self.sink.of_type(event_type)


def template(slug: str) -> ShippedTemplate:
    return load(TEMPLATES_DIR / slug)


async def run_template(
    slug: str,
    task_input: dict[str, Any] | None = None,
    *,
    spec: TeamSpec | None = None,
    tool_settings: dict[str, Any] | None = None,
    models: dict[str, ResolvedModel] | None = None,
    clock: Any = None,
    journal: list[Event] | None = None,
) -> TemplateRun:
    shipped = template(slug)
    sink, artifacts = MemorySink(), MemoryArtifacts()
    outcome = await run_team(
        spec or shipped.spec,
        shipped.sample_input if task_input is None else task_input,
        journal=Journal(journal or []),
        sink=sink,
        models=StaticModelRegistry(models),
        tools=registry,
        clock=clock or SystemClock(),
        cancel=CancelToken(),
        run_id=f"test-{slug}",
        artifacts=artifacts,
        tool_settings={"sandbox_user": sandbox_user(), **(tool_settings or {})},
    )
    return TemplateRun(outcome, sink, artifacts)
