"""What every part of a run shares: the injected services and the journal (``RunContext``),
and where in the run each part is (``Scope``, kept in ``scope``: keys and span ids).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import RunCancelled
from .events import Event
from .interfaces import (
    ArtifactStore,
    CancelToken,
    Clock,
    EventSink,
    Journal,
    ModelRegistry,
    ToolRegistry,
)
from .scope import Scope

if TYPE_CHECKING:
    from .budgets import Budgets


@dataclass(frozen=True)
class EngineOptions:
    """Tunables with production defaults; tests and benchmarks shorten the waits."""

    retry_base_s: float = 1.0
    retry_cap_s: float = 30.0
    repair_turns: int = 2
    max_hops_when_uncapped: int = 100
    max_gate_attempts_when_uncapped: int = 10


@dataclass
class RunContext:
    journal: Journal
    sink: EventSink
    models: ModelRegistry
    tools: ToolRegistry
    clock: Clock
    cancel: CancelToken
    seed: int
    run_id: str
    budgets: Budgets
    options: EngineOptions = field(default_factory=EngineOptions)
    artifacts: ArtifactStore | None = None
    tool_settings: dict[str, Any] = field(default_factory=dict)
    # How a team node runs its nested team (patterns.run_pattern, given by the runner): the
    # patterns run nodes, so nodes cannot import them back.
    run_team: Callable[..., Awaitable[Any]] | None = None
    _emitted: set[str] = field(default_factory=set)
    _results_emitted: int = 0  # activity results emitted by this execution
    _results_stored: int = 0  # of those, how many a durable emit has seen stored

    def recorded(self, key: str) -> Event | None:
        return self.journal.get(key)

    async def emit(
        self,
        type_: str,
        key: str,
        scope: Scope,
        payload: dict[str, Any],
        *,
        durable: bool = True,
        result: bool = False,
    ) -> None:
        """Emit an event unless the journal already holds its key (a resumed run).

        ``durable=False`` for an event that only reports, or a result (``result=True``) that
        the next activity's announcement stores: see ``EventSink``."""
        if self.journal.has(key):
            return
        if key in self._emitted:
            raise RuntimeError(f"Engine bug: event key {key!r} emitted twice in one run.")
        self._emitted.add(key)
        event = Event(
            type=type_,
            key=key,
            ts=self.clock.now(),
            agent=scope.agent,
            span_id=scope.span_id,
            parent_span_id=scope.parent_span_id,
            payload=payload,
        )
        if result:
            self._results_emitted += 1
        emitted = self._results_emitted
        await self.sink.emit(event, durable=durable)
        if durable:  # the sink stores in order: every result emitted before this is stored
            self._results_stored = max(self._results_stored, emitted)

    async def announce(self, type_: str, key: str, scope: Scope, payload: dict[str, Any]) -> None:
        """Emit the event that announces an activity: durable when a result emitted before
        it may not be stored yet, so the activity starts only once that result is."""
        unstored = self._results_emitted > self._results_stored
        await self.emit(type_, key, scope, payload, durable=unstored)

    async def emit_ephemeral(self, type_: str, key: str, scope: Scope, payload: dict) -> None:
        """Broadcast-only events (streamed tokens): never journaled, so never deduplicated."""
        event = Event(
            type_, key, self.clock.now(), scope.agent, scope.span_id, scope.parent_span_id, payload
        )
        await self.sink.emit(event)

    def check_cancelled(self) -> None:
        if self.cancel.cancelled:
            raise RunCancelled(self.cancel.reason or "Cancelled.")
