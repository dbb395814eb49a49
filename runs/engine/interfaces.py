"""What the engine is given, and what it gives back.

The engine is the functional core; the shell (Celery task, web-process thread, unit test,
benchmark) passes everything in through these types, so nothing here knows about Django:

    outcome = await run_team(
        spec, task_input,
        journal=Journal(prior_events), sink=sink, models=models, tools=tools,
        clock=SystemClock(), cancel=CancelToken(), seed=run.seed, run_id=str(run.id),
    )

``run_team`` lives in ``runs.engine.runner`` and is re-exported by ``runs.engine``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .events import HUMAN_ANSWERED, Event

# --- events out -------------------------------------------------------------------------


class EventSink(Protocol):
    """Receives every event in the order the engine emits it.

    The shell numbers, hashes, stores and broadcasts it. ``emit`` returns once the event is
    durable (stored types) or handed to the broadcaster (ephemeral types); with
    ``durable=False`` it returns once the event is queued, to be stored in order before
    anything emitted after it. The engine never emits an event whose key the journal
    already holds.

    The engine waits for durability only where resuming depends on it: before an activity
    starts, and for the events that decide the run's path or end it. The event announcing an
    activity (``turn.started`` before a model call when a result emitted before it may not be
    stored yet, ``tool.call`` before a tool acts, ``human.requested``) is emitted durable, and
    so stores everything emitted before it: no activity starts while an earlier result could
    still be lost. A result, or an event the engine only reports (an agent starting, tokens
    used), that a crash loses is emitted again, under the same key, when the run resumes:
    waiting for each would cost a database round trip for nothing.

    The event that ends the run (``run.finished``, ``run.failed``, ``run.cancelled``) is not
    waited for either: when ``run_team`` returns, what it emitted may still be queued, and
    its caller stores that before it acts on the outcome (the shell does so in the
    transaction that records how the run ended).
    """

    async def emit(self, event: Event, *, durable: bool = True) -> None: ...


# --- recorded history in ----------------------------------------------------------------


class Journal:
    """The events a run has already recorded, indexed by their deterministic key.

    An activity (model call, tool call, human answer) whose result event is here is not
    performed again: the engine takes the recorded result and re-executes only its own
    orchestration logic, which is what makes crash recovery, suspension and replay one
    mechanism.
    """

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self._by_key: dict[str, Event] = {}
        for event in events:
            self._by_key.setdefault(event.key, event)

    def has(self, key: str) -> bool:
        return key in self._by_key

    def get(self, key: str) -> Event | None:
        return self._by_key.get(key)

    def __len__(self) -> int:
        return len(self._by_key)


def answer_key(activity_key: str) -> str:
    """Key of the ``human.answered`` event that completes a ``human.requested`` activity."""
    return f"{activity_key}#answered"


def human_answered(requested: Event, answer: Any, by: str, ts: float) -> Event:
    """The event the shell appends when a person answers a waiting run.

    The engine, resumed afterwards, finds it in the journal under ``answer_key`` and goes on.
    """
    activity_key = requested.payload["activity_key"]
    return Event(
        type=HUMAN_ANSWERED,
        key=answer_key(activity_key),
        ts=ts,
        agent=requested.agent,
        span_id=requested.span_id,
        parent_span_id=requested.parent_span_id,
        payload={"activity_key": activity_key, "answer": answer, "by": by},
    )


# --- time and cancellation --------------------------------------------------------------


class Clock(Protocol):
    """The only source of time for orchestration logic."""

    def now(self) -> float:
        """Seconds since the epoch (event timestamps)."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin (deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class CancelToken:
    """Set by the shell when a person cancels; the engine checks it at every activity
    boundary and races calls in flight against it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.reason = ""

    def cancel(self, reason: str = "Cancelled by a person.") -> None:
        self.reason = reason
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    async def wait(self) -> None:
        await self._event.wait()


# --- models -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ToolSchema:
    """A tool as a model sees it: name, description and JSON Schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str  # raw JSON text, exactly as the model wrote it (it may not parse)


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class ModelRequest:
    model: str
    messages: Sequence[ChatMessage]
    tools: Sequence[ToolSchema] = ()
    output_schema: dict[str, Any] | None = None
    temperature: float | None = None
    timeout_s: float | None = None
    # Where the call sits in the run and which attempt it is: providers may send these along
    # (the openai provider as X-Activity-Key / X-Attempt headers) for tracing and idempotency.
    activity_key: str | None = None
    attempt: int = 1


@dataclass(frozen=True)
class Usage:
    """``input_tokens`` counts every prompt token; of those, ``cached_input_tokens`` were read
    from the provider's prompt cache and ``cache_write_tokens`` written to it (each priced
    apart)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass(frozen=True)
class ModelResponse:
    content: str | None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    simulated: bool = False
    # The provider's headers said the credential has no requests left until this many
    # seconds from now (``x-ratelimit-remaining-requests: 0``); None: it did not say so.
    exhausted_for_s: float | None = field(default=None, compare=False)


class ModelError(Exception):
    """A model call failed. ``transient`` errors (429, 5xx, connection, timeout) are retried
    with backoff; the rest go straight to the agent's fallback."""

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status
        # How long the server asked to wait (Retry-After): the engine waits at least that.
        self.retry_after_s = retry_after_s


DeltaCallback = Callable[[str], Awaitable[None]]


class ModelProvider(Protocol):
    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None = None
    ) -> ModelResponse:
        """One model turn. Streams text chunks to ``on_delta`` when given. Raises ModelError."""
        ...


class Circuit(Protocol):
    """The circuit breaker of one credential, shared by every run (and, with Redis, every
    worker process) that calls a model with it."""

    async def allows(self) -> bool:
        """False while open; True when closed, or for the one probe a half-open circuit lets
        through after its cool-down."""
        ...

    async def record(self, ok: bool) -> None:
        """A call's outcome: a success closes the circuit, repeated failures open it."""
        ...

    async def open_for(self) -> float:
        """Seconds until an open circuit's cool-down ends (it then half-opens); 0 when it is
        not cooling down (closed, or half-open with a probe in flight)."""
        ...

    async def allows_and_reserve(self, rate_limit: RateLimit, tokens: int) -> float | None:
        """``allows()`` and, when it allows, ``rate_limit.reserve(tokens)``: None when refused
        (nothing reserved), else the seconds until the slot now held. One step where both keep
        their state in one store (in Redis, one round trip where there were two)."""
        ...


class RateLimit(Protocol):
    """The rate limit of one credential, shared by every run (and, with Redis, every worker
    process) that calls a model with it."""

    async def reserve(self, tokens: int) -> float:
        """Holds the next free slot for a call of about ``tokens`` tokens; the seconds until
        it (0: go now)."""
        ...

    async def pause(self, seconds: float) -> None:
        """The server said no more for ``seconds`` (a 429's Retry-After): nobody calls."""
        ...

    async def paused_for(self) -> float:
        """Seconds the credential stays paused (0: not paused)."""
        ...


@dataclass(frozen=True)
class ResolvedModel:
    """A ModelConfig made ready to call: the provider plus what usage costs."""

    name: str
    provider: ModelProvider
    model: str
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    simulated: bool = False
    # Prompt-cache prices; None: what an uncached input token costs.
    cached_input_usd_per_mtok: float | None = None
    cache_write_usd_per_mtok: float | None = None
    # The credential's circuit breaker; None: never open.
    circuit: Circuit | None = field(default=None, compare=False)
    # The credential's rate limit; None: never waits.
    rate_limit: RateLimit | None = field(default=None, compare=False)

    def cost_usd(self, usage: Usage) -> float:
        read = usage.cached_input_tokens
        written = usage.cache_write_tokens
        uncached = max(usage.input_tokens - read - written, 0)
        read_price = self.cached_input_usd_per_mtok
        write_price = self.cache_write_usd_per_mtok
        return (
            uncached * self.input_usd_per_mtok
            + read * (self.input_usd_per_mtok if read_price is None else read_price)
            + written * (self.input_usd_per_mtok if write_price is None else write_price)
            + usage.output_tokens * self.output_usd_per_mtok
        ) / 1_000_000


class ModelRegistry(Protocol):
    def get(self, name: str) -> ResolvedModel:
        """Raises KeyError with a readable message for an unknown model name."""
        ...


# --- tools ------------------------------------------------------------------------------


class ArtifactStore(Protocol):
    """Where tools put files a run made (charts, reports); the shell serves them to the owner."""

    async def save(self, name: str, data: bytes, content_type: str) -> dict[str, Any]:
        """Returns a JSON-able reference, at least ``{"id", "name", "content_type", "url"}``."""
        ...


@dataclass
class ToolContext:
    run_id: str
    agent: str
    artifacts: ArtifactStore | None = None
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    ok: bool
    result: Any = None  # JSON-able
    error: str | None = None
    artifacts: tuple[dict[str, Any], ...] = ()


class ToolRegistry(Protocol):
    def names(self) -> set[str]: ...

    def schemas(self, names: Sequence[str]) -> list[ToolSchema]: ...

    async def call(self, name: str, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        """Runs a tool with its timeout and output cap. Never raises for a tool's own failure:
        that comes back as ``ToolResult(ok=False, error=...)`` for the agent to react to."""
        ...


# --- the outcome ------------------------------------------------------------------------

RunStatus = Literal["succeeded", "failed", "waiting", "cancelled"]


@dataclass(frozen=True)
class RunOutcome:
    status: RunStatus
    output: Any = None
    reason: str | None = None  # why it failed, was cancelled, or what it waits for
    waiting_for: str | None = None  # activity key of the pending human.requested
    # When the pending question has a deadline: run the engine again after this many seconds
    # (it then fails the question as unanswered, unless an answer came first).
    wake_after_s: float | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
