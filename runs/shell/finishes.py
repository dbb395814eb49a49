"""Recording how runs ended (or paused): their last events, their ends, their signed heads
and what /metrics counts, for every run that ends in one round (``Finishes``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.utils import timezone

from .. import heads, hooks, metrics, telemetry, webhooks
from ..broadcast import run_message
from ..chain import storable
from ..engine.interfaces import RunOutcome
from ..models import Run
from .loop import Batcher, by_run
from .sink import LostRun, Tail
from .store import record_ends, run_totals, store_many

log = logging.getLogger(__name__)


@dataclass
class Ended:
    """How the engine left a run (ended, or paused), for ``finish`` to record."""

    run: Run  # its executor's copy, whose totals the sink kept current
    executor: str
    outcome: RunOutcome
    tail: Tail  # what its sink had not written yet
    last_seq: int  # with the tail
    last_hash: str  # the hash of event ``last_seq``: the head signed with the run's end


class Finishes(Batcher[tuple[str, Ended], dict[str, Any] | None]):
    """Records how runs ended (or paused), a round at a time: their last events and their
    ends, in one call on a database thread."""

    def __init__(self) -> None:
        super().__init__(by_run(finish_each), name="run-finishes")


def finish_each(asked: dict[str, Ended]) -> dict[str, Any]:
    """``finish`` for the runs asked, by id: together, or if that fails one at a time, so
    one run's failure does not fail the others. A run whose last events conflict with
    stored ones gets LostRun: another executor wrote it."""
    try:
        return finish(list(asked.values()))
    except Exception as error:
        if len(asked) == 1:
            return {run_id: _lost_if_conflict(run_id, error) for run_id in asked}
    answers: dict[str, Any] = {}
    for run_id, ended in asked.items():
        try:
            answers |= finish([ended])
        except Exception as error:
            answers[run_id] = _lost_if_conflict(run_id, error)
    return answers


def _lost_if_conflict(run_id: str, error: Exception) -> Exception:
    """A run whose last events conflict with stored ones was written by another executor."""
    if isinstance(error, IntegrityError):
        return LostRun.of(run_id)
    return error


def finish(ended: Sequence[Ended]) -> dict[str, dict[str, Any]]:
    """Record how the engine left each of these runs, in one transaction: its end (status,
    output, totals) and the events its sink had not written, for each run whose executor
    still holds it; a run another executor took over is left alone. Counts their last
    events for /metrics once that commits. Returns the run.summary message for watchers of each run
    recorded, by id. Raises IntegrityError if a run's events conflict with stored ones.

    Each run is its executor's copy, whose totals the sink kept current: it gets the new
    fields here rather than being read again."""
    with transaction.atomic():
        fields = {
            e.run.id: ended_fields(e.outcome)
            | run_totals(e.run)
            | {"audit_head": heads.sign(e.run.id, e.last_seq, e.last_hash)}
            for e in ended
        }
        # Holds the rows of the runs it writes: no other executor can claim them now.
        kept = record_ends([(e.run, e.executor, fields[e.run.id]) for e in ended])
        mine = [e for e in ended if str(e.run.id) in kept]
        # A conflict raises IntegrityError and rolls all of this back: ``finish_each`` then
        # finishes each run on its own, so only the run at fault gets LostRun.
        store_many([(e.run.id, e.tail.rows, None) for e in mine if e.tail.rows], apart=False)
        for e in mine:
            for name, value in fields[e.run.id].items():
                setattr(e.run, name, value)
            e.run.last_seq = e.last_seq  # type: ignore[attr-defined]
        recorded = [e.run for e in mine]
        # Only runs whose tools made artifacts since the claim read them again.
        prefetch_related_objects(recorded, "artifacts")
        webhooks.schedule_for_runs(recorded)  # the teams' receivers hear it ended or waits
    for e in mine:  # in this process's memory: microseconds, after the commit
        metrics.observe_events(e.run, e.tail.rows, e.tail.agent_starts, look_up=False)
    for run in recorded:
        telemetry.export_run(run)  # no-op unless OTEL_EXPORTER_OTLP_ENDPOINT, or waiting
    for path in hooks.ON_ENDED:
        try:
            hooks.resolved(path)(recorded)
        except Exception:
            log.warning("%s failed after runs ended", path, exc_info=True)
    return {str(run.id): run_message(run) for run in recorded}


def ended_fields(outcome: RunOutcome) -> dict[str, Any]:
    due = wake_at(outcome)
    fields: dict[str, Any] = {"claimed_by": "", "heartbeat_at": None, "wake_at": due}
    if outcome.status == "waiting":
        return fields | {
            "status": Run.Status.WAITING,
            "waiting_for": storable(outcome.waiting_for or outcome.reason or ""),
        }
    return fields | {
        "status": outcome.status,
        "finished_at": timezone.now(),
        "output": storable(outcome.output),
        "failure_reason": storable(outcome.reason or "" if outcome.status != "succeeded" else ""),
        "waiting_for": "",
    }


def wake_at(outcome: RunOutcome) -> datetime | None:
    """When a run the engine left with ``outcome`` is due to be executed again; None when only
    a person can move it on."""
    if outcome.status != "waiting" or outcome.wake_after_s is None:
        return None
    return timezone.now() + timedelta(seconds=max(0.0, outcome.wake_after_s))
