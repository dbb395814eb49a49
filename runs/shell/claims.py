"""Claiming runs: the conditional update that gives a run to one executor, and reading what
its execution starts from (its journal, its owner's models and tools), for every run that asks
in one round (``Claims``)."""

from __future__ import annotations

import functools
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import prefetch_related_objects

from ..broadcast import run_message
from ..chain import ChainHead
from ..engine.events import Event
from ..engine.interfaces import ModelRegistry
from ..engine.tools import Registry
from ..models import Run, RunEvent
from ..wiring import model_registries, models_of, tool_registries, tool_settings
from .loop import Batcher, by_run
from .store import take, taken


@dataclass
class Claimed:
    """What executing a run starts from, read on a database thread."""

    executor: str  # the claim's holder, as in ``Run.claimed_by``
    run: Run
    events: list[Event]  # recorded before: the journal
    head: ChainHead
    models: ModelRegistry
    tools: Registry
    summary: dict[str, Any]  # the run.summary message that tells watchers it runs
    tool_settings: dict[str, Any]  # the deployment's settings as the run's tools see them


def claim(run_ids: Sequence[str], executor: str) -> dict[str, Claimed]:
    """Take the runs that can be taken (queued, or running with a stale heartbeat: their
    worker died) for ``executor``, and read what their execution needs: four statements
    for them all, however many there are, and two more if some of them ran before (their
    journal and artifacts). Returns the runs taken, by id."""
    if not take(run_ids, executor):
        return {}
    runs = taken(run_ids, executor)
    # Most runs start for the first time: nothing recorded, nothing made, nothing to read.
    resumed = [run for run in runs if run.ran_before]  # type: ignore[attr-defined]
    prefetch_related_objects(resumed, "artifacts")
    for run in runs:
        if not run.ran_before:  # type: ignore[attr-defined]
            prefetched_nothing(run, "artifacts")
    journals = recorded(resumed)
    journals |= {run.id: ([], ChainHead()) for run in runs if run.id not in journals}
    owners, workspaces = {run.owner_id for run in runs}, {run.workspace_id for run in runs}
    models = models_of(runs, model_registries(workspaces))
    tools = tool_registries(workspaces)
    settings_for_tools = tool_settings(owners)
    claimed = {}
    for run in runs:
        events, head = journals[run.id]
        run.last_seq = head.seq  # type: ignore[attr-defined]
        claimed[str(run.id)] = Claimed(
            executor, run, events, head, models[run.id], tools[run.workspace_id],
            run_message(run), settings_for_tools[run.owner_id],
        )  # fmt: skip
    return claimed


def prefetched_nothing(instance: Any, related: str) -> None:
    """Mark ``instance.<related>`` as prefetched and empty, as ``prefetch_related`` leaves it
    when it finds no rows, without compiling the query that would find none."""
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[related] = no_rows(instance._meta.get_field(related))


@functools.cache
def no_rows(relation: Any) -> Any:
    """One empty, evaluated queryset of a relation's model, shared by every instance marked
    as having none: ``none()`` keeps any queryset made from it empty too."""
    rows = relation.related_model._base_manager.none()
    rows._result_cache, rows._prefetch_done = [], True
    return rows


def recorded(runs: Sequence[Run]) -> dict[Any, tuple[list[Event], ChainHead]]:
    """Each run's stored events and the head of its chain, in one query (none for none)."""
    rows: dict[Any, list[RunEvent]] = {run.id: [] for run in runs}
    if rows:
        for row in RunEvent.objects.filter(run_id__in=list(rows)).order_by("run_id", "seq"):
            rows[row.run_id].append(row)
    journals = {}
    for run_id, mine in rows.items():
        head = ChainHead(mine[-1].seq, mine[-1].hash) if mine else ChainHead()
        journals[run_id] = ([row.to_event() for row in mine], head)
    return journals


class Claims(Batcher[tuple[str, None], Claimed | None]):
    """Claims the runs that ask to start, a round at a time. A run claimed for an asker that
    is gone is left to the takeover of runs with a stale heartbeat."""

    def __init__(self) -> None:
        super().__init__(by_run(claim_asked), name="run-claims")


def claim_asked(asked: dict[str, None]) -> dict[str, Claimed]:
    return claim(list(asked), new_executor_id())


def new_executor_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
