"""What engine tests share: an in-memory event sink, a model registry pointing at the scripted
test server, and a one-call way to run (or resume) a team."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from runs.engine import EngineOptions, run_team
from runs.engine.events import EPHEMERAL_TYPES, Event
from runs.engine.interfaces import CancelToken, Journal, ResolvedModel, RunOutcome, SystemClock
from runs.engine.models import StaticModelRegistry, make_provider
from runs.engine.tools import builtin_registry
from runs.engine.tools.netguard import NetworkPolicy
from tests.support.sandbox import sandbox_user

FAST = EngineOptions(retry_base_s=0.01, retry_cap_s=0.02)


@dataclass
class RecordingSink:
    all: list[Event] = field(default_factory=list)

    async def emit(self, event: Event, *, durable: bool = True) -> None:
        self.all.append(event)

    @property
    def events(self) -> list[Event]:
        """What the shell would store: everything but streamed tokens."""
        return [e for e in self.all if e.type not in EPHEMERAL_TYPES]

    def types(self) -> list[str]:
        return [e.type for e in self.events]

    def of(self, type_: str) -> list[Event]:
        return [e for e in self.events if e.type == type_]

    def index(self, key: str) -> int:
        return next(i for i, e in enumerate(self.events) if e.key == key)


#: The test model servers listen on 127.0.0.1: allowed as an operator's credential allows them.
LOCAL = NetworkPolicy.allowing(["127.0.0.1"])


def server_models(base_url: str, timeout_s: float = 10.0, **prices: float) -> StaticModelRegistry:
    provider = make_provider("openai", model="test-model", base_url=base_url, api_key="test-key",
                             timeout_s=timeout_s, network=LOCAL)  # fmt: skip
    return StaticModelRegistry({"test": ResolvedModel("test", provider, "test-model", **prices)})


async def run(
    spec: Any,
    task: Any,
    *,
    models: Any = None,
    journal: Iterable[Event] = (),
    tools: Any = None,
    cancel: CancelToken | None = None,
    options: EngineOptions = FAST,
    seed: int = 7,
    clock: Any = None,
) -> tuple[RunOutcome, RecordingSink]:
    sink = RecordingSink()
    outcome = await run_team(
        spec,
        task,
        journal=Journal(journal),
        sink=sink,
        models=models or StaticModelRegistry(),
        tools=tools or builtin_registry(),
        clock=clock or SystemClock(),
        cancel=cancel or CancelToken(),
        seed=seed,
        run_id="test-run",
        options=options,
        tool_settings={"sandbox_user": sandbox_user()},
    )
    return outcome, sink


class VirtualClock:
    """The engine's clock, moved only by the test: ``sleep`` waits until ``advance`` passes
    its time, so deadlines and service levels are tested without waiting for them."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.time = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._made = 0

    def now(self) -> float:
        return self.time

    def monotonic(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        self._made += 1
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.time + seconds, self._made, waiter)
        self._sleepers.append(entry)
        try:
            await waiter
        finally:
            if entry in self._sleepers:
                self._sleepers.remove(entry)

    async def settle(self) -> None:
        """Let every task run until it waits on this clock (or on something outside)."""
        for _ in range(200):
            await asyncio.sleep(0)

    async def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, waking sleepers in the order their times come."""
        target = self.time + seconds
        await self.settle()
        while due := sorted(s for s in self._sleepers if s[0] <= target and not s[2].done()):
            wake_at, _, waiter = due[0]
            self.time = max(self.time, wake_at)
            waiter.set_result(None)
            await self.settle()
        self.time = target
        await self.settle()


class SlowModel:
    """The offline model, answering only after ``seconds`` of the given clock (by default
    a day: an outage). ``calls`` counts the requests it was sent."""

    def __init__(self, clock: VirtualClock, seconds: float = 86_400) -> None:
        self.clock, self.seconds, self.calls = clock, seconds, 0

    async def complete(self, request: Any, on_delta: Any = None) -> Any:
        from runs.engine.models import OFFLINE

        self.calls += 1
        await self.clock.sleep(self.seconds)
        return await OFFLINE.provider.complete(request, on_delta)
