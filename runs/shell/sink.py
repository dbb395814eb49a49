"""The event sink: numbers, hash-chains, stores and broadcasts what the engine emits.

The executor holding a run is the only writer of its events, so it assigns ``seq`` from
memory; PostgreSQL's unique constraints on (run, seq) and (run, key) are the backstop that
turns a second writer (a worker that lost the run to a takeover) into an error instead of a
fork in the chain.

``emit`` returns once the event is committed (with ``durable=False``, once it is queued: it
is committed before anything emitted after it, so a crash can lose only the tail of what
the engine reported, never a middle). Events emitted while a write is in flight are
written together in the next transaction (group commit), and everything committed in one go
is broadcast as one ``events`` message, so a burst costs one INSERT round and one PUBLISH.
Streamed tokens (``message.delta``) are never stored: consecutive ones of the same span are
concatenated and broadcast in order with the events around them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError

from .. import metrics, webhooks
from ..broadcast import delta_message, events_message, publish_soon
from ..chain import ChainHead, chain
from ..engine.events import AGENT_FINISHED, AGENT_STARTED, EPHEMERAL_TYPES, SLA_ESCALATED, Event
from ..models import Run, RunEvent
from .config import COALESCE_WINDOW_S, WRITES_IN_FLIGHT
from .loop import Batcher, in_db_thread, one_per_loop
from .store import Batch, Totals, run_totals, store_many, usage_totals

log = logging.getLogger(__name__)


class LostRun(Exception):
    """Another executor took this run over; this one must stop without writing more."""

    @classmethod
    def of(cls, run_id: Any) -> LostRun:
        return cls(f"Run {run_id} is being written by another executor.")


class EventWriter(Batcher[Batch, None]):
    """Stores the events of every run on one event loop, batched across runs.

    A worker process carries hundreds of runs; one commit per event per run would make the
    database the bottleneck, so what all the runs emitted while earlier writes were in
    flight goes into the next transaction together (group commit across runs). Up to
    ``WRITES_IN_FLIGHT`` transactions overlap, so an event does not wait for a commit it is
    not part of to end; a run's own events stay in order because its sink writes one batch
    at a time.
    """

    def __init__(self) -> None:
        super().__init__(store_rounds, name="event-writer", in_flight=WRITES_IN_FLIGHT)

    async def write(self, run_id: Any, rows: Sequence[RunEvent], totals: Totals | None) -> None:
        """Store ``rows`` (and the run's new totals). Raises IntegrityError."""
        await self.submit((run_id, rows, totals))


async def store_rounds(batches: list[Batch]) -> list[Exception | None]:
    return await in_db_thread(store_many, batches)  # type: ignore[no-any-return]


@dataclass
class _Delta:
    agent: str | None
    span_id: str | None
    text: str


@dataclass
class Tail:
    """What a run emitted that its sink had not written when it was sealed: the rows, the
    broadcast that tells watchers (deltas in place), and the starts of the agents that
    finish in them (for counting). Their usage is in the run's totals already."""

    rows: list[RunEvent]
    messages: list[dict[str, Any]]
    agent_starts: dict[str, float]


@dataclass
class _Pending:
    event: Event
    done: asyncio.Future[None] | None  # None: the emitter did not wait (durable=False)


class RunSink:
    """Implements ``runs.engine.interfaces.EventSink`` for one run in one executor."""

    def __init__(self, run: Run, head: ChainHead, known_keys: Iterable[str] = ()) -> None:
        self.run = run
        self.head = head
        self.known_keys = set(known_keys)
        self._outbox: list[_Pending | _Delta] = []
        self._wake = asyncio.Event()
        self._closed = False
        self._sealed = False  # what is queued is left to ``seal``'s caller
        self._awaited = False  # the engine waits for an event in the outbox
        self._failure: BaseException | None = None
        self._writer = asyncio.create_task(self._write_loop(), name=f"sink-{run.id}")
        self._agent_starts: dict[str, float] = {}  # span id: when, for agents still working

    async def emit(self, event: Event, *, durable: bool = True) -> None:
        if self._failure is not None:
            raise self._failure
        if self._closed:
            raise RuntimeError("The run's event sink is closed.")
        if event.type in EPHEMERAL_TYPES:
            self._add_delta(event)
            return
        if event.key in self.known_keys:
            return  # already recorded: re-execution regenerates the same keys
        self.known_keys.add(event.key)
        if not durable:
            self._outbox.append(_Pending(event, None))
            self._wake.set()
            return
        done = asyncio.get_running_loop().create_future()
        self._outbox.append(_Pending(event, done))
        self._awaited = True
        self._wake.set()
        await done

    def resumed_from(self, journal: Iterable[Event]) -> None:
        """Note the agents still working in the events recorded before this execution, so an
        agent that finishes in it is counted with its duration."""
        for event in journal:
            if event.type == AGENT_STARTED and event.span_id:
                self._agent_starts[event.span_id] = event.ts
            elif event.type == AGENT_FINISHED:
                self._agent_starts.pop(event.span_id or "", None)

    def _add_delta(self, event: Event) -> None:
        text = str(event.payload.get("text") or "")
        last = self._outbox[-1] if self._outbox else None
        if isinstance(last, _Delta) and (last.agent, last.span_id) == (event.agent, event.span_id):
            last.text += text
        else:
            self._outbox.append(_Delta(event.agent, event.span_id, text))
        self._wake.set()

    async def close(self) -> None:
        """Write and broadcast what is pending, then stop. Executors ``seal`` instead, so
        that their run's last events are stored with its end; this drains a sink whose
        run's end is recorded separately (the sink's own tests do)."""
        await self._stop(sealed=False)

    async def seal(self) -> Tail:
        """Stop, once the write in flight is done, and hand over what is still queued:
        numbered and chained, not stored. The executor stores it in the transaction that
        records how the run ended (``runs.shell.finishes.finish``), so the end of a run costs one
        round trip to the database, not one for its last events and one for its end."""
        await self._stop(sealed=True)
        batch, self._outbox = self._outbox, []
        _, rows = self._chain(batch)
        self._add_usage(rows)  # the run's totals, written and broadcast with its end
        return Tail(rows, self._messages(batch, rows), self._finished_agents(rows))

    async def _stop(self, *, sealed: bool) -> None:
        """Take no more; write what is queued unless ``sealed`` (the write in flight ends
        either way), and raise the failure that stopped the writer, if any."""
        self._closed, self._sealed = True, sealed
        self._wake.set()
        await self._writer
        if self._failure is not None:
            raise self._failure

    async def _write_loop(self) -> None:
        while True:
            await self._wake.wait()
            if not self._awaited and not self._sealed:
                await asyncio.sleep(COALESCE_WINDOW_S)
            if self._sealed:
                return
            self._wake.clear()
            self._awaited = False
            batch, self._outbox = self._outbox, []
            if batch:
                await self._flush(batch)
            if self._failure is not None:
                # The run is lost: what was queued behind the failed write is not written
                # (it would chain after an event that is not stored), and its emitters learn.
                queued, self._outbox = self._outbox, []
                self._fail([item for item in queued if isinstance(item, _Pending)], self._failure)
                return
            if self._closed and not self._outbox:
                return

    def _chain(self, batch: list[_Pending | _Delta]) -> tuple[list[_Pending], list[RunEvent]]:
        """The batch's events (deltas aside) and their rows, numbered after the head."""
        pending = [item for item in batch if isinstance(item, _Pending)]
        return pending, chain(self.run.id, self.head, [item.event for item in pending])

    async def _flush(self, batch: list[_Pending | _Delta]) -> None:
        stored = self.head.seq, self.head.hash
        pending, rows = self._chain(batch)
        totals = self._add_usage(rows)
        try:
            if rows:
                await one_per_loop(EventWriter).write(self.run.id, rows, totals)
        except IntegrityError as error:
            self._fail(pending, LostRun.of(self.run.id))
            log.warning("Stopped writing run %s: %s", self.run.id, error)
            return
        except BaseException as error:
            # The head goes back to the last event stored: the run's end signs it.
            self.head.seq, self.head.hash = stored
            self._fail(pending, error)
            raise
        for item in pending:
            if item.done is not None and not item.done.done():
                item.done.set_result(None)
        messages = self._messages(batch, rows)
        if totals:
            messages.append(self._usage_summary())
        await publish_soon(self.run.group_name, messages)
        if rows:
            self._count(rows)
            await self._notify_escalations(rows)

    async def _notify_escalations(self, rows: Sequence[RunEvent]) -> None:
        """Tell the team's webhooks of an escalation that asks for it, once it is stored
        (a run executed again finds it in its journal and does not emit it twice)."""
        for row in rows:
            if row.type == SLA_ESCALATED and row.payload.get("notify_webhooks"):
                try:
                    await in_db_thread(webhooks.notify_escalated, self.run, row.payload)
                except Exception:  # the run goes on; the event is on its timeline regardless
                    log.exception("Could not queue the escalation webhooks of run %s", self.run.id)

    def _count(self, rows: Sequence[RunEvent]) -> None:
        """Count ``rows`` for /metrics (in this process's memory: no round trip)."""
        metrics.observe_events(self.run, rows, self._finished_agents(rows), look_up=False)

    def _finished_agents(self, rows: Sequence[RunEvent]) -> dict[str, float]:
        """When each agent that finishes in ``rows`` started (span id: time), from the
        starts this sink saw, so counting an agent's duration needs no query."""
        starts = {}
        for row in rows:
            if row.type == AGENT_STARTED:
                self._agent_starts[row.span_id] = row.ts.timestamp()
            elif row.type == AGENT_FINISHED and row.span_id in self._agent_starts:
                starts[row.span_id] = self._agent_starts.pop(row.span_id)
        return starts

    def _add_usage(self, rows: Sequence[RunEvent]) -> Totals | None:
        """The run's new totals if ``rows`` used tokens. This executor is the only one adding
        to them while it holds the run, so it keeps them in memory and writes the values."""
        used = usage_totals(rows)
        if not any(used.values()):
            return None
        run = self.run
        run.input_tokens += used["input_tokens"]
        run.output_tokens += used["output_tokens"]
        run.cost_usd = Decimal(run.cost_usd) + used["cost_usd"]
        return run_totals(run)

    def _usage_summary(self) -> dict[str, Any]:
        run = self.run
        summary = {
            "id": str(run.id),
            "status": run.status,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": float(run.cost_usd),
            "last_seq": self.head.seq,
        }
        return {"type": "run.summary", "run": summary}

    @staticmethod
    def _messages(batch: list[_Pending | _Delta], rows: list[RunEvent]) -> list[dict[str, Any]]:
        """The batch in emission order: consecutive events in one message, deltas between."""
        messages: list[dict[str, Any]] = []
        stored = iter(rows)
        run_of_rows: list[RunEvent] = []
        for item in batch:
            if isinstance(item, _Pending):
                run_of_rows.append(next(stored))
                continue
            if run_of_rows:
                messages.append(events_message(run_of_rows))
                run_of_rows = []
            messages.append(delta_message(item.agent, item.span_id, item.text))
        if run_of_rows:
            messages.append(events_message(run_of_rows))
        return messages

    def _fail(self, pending: list[_Pending], error: BaseException) -> None:
        self._failure = error
        for item in pending:
            if item.done is not None and not item.done.done():
                item.done.set_exception(error)
