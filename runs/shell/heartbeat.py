"""Holding the runs a loop executes: their heartbeats, the cancels people ask for, and the
runs another executor took over (``RunWatcher``, one round of queries for all of them)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..engine.interfaces import CancelToken
from ..models import Run
from .config import cancel_poll_s, heartbeat_s
from .loop import in_db_thread

log = logging.getLogger(__name__)


def keep_alive(claims: dict[str, str], beat: bool = True) -> tuple[set[str], set[str]]:
    """Beat the hearts of the runs this loop executes ({run id: executor}) if ``beat``;
    returns the ids it no longer holds (taken over) and those a person asked to cancel. Two
    queries for all of them, however many there are.

    A run whose row another transaction holds (its sink adding to its totals) is skipped
    for this beat rather than waited for: waiting, with the rows locked in whatever order
    the update meets them, deadlocked against the sink's group commits, and PostgreSQL
    takes a second (``deadlock_timeout``) to notice. A skipped beat is made up by the
    next one, long before a run counts as stale."""
    if beat:
        holding = Run.objects.filter(id__in=list(claims), claimed_by__in=list(claims.values()))
        free = holding.select_for_update(skip_locked=True, no_key=True).order_by().values("pk")
        with transaction.atomic():
            Run.objects.filter(pk__in=free).update(heartbeat_at=timezone.now())
    rows = Run.objects.filter(id__in=list(claims)).values_list(
        "id", "claimed_by", "cancel_requested"
    )
    lost = {str(id_) for id_, holder, _ in rows if holder != claims[str(id_)]}
    cancelled = {str(id_) for id_, _, cancel in rows if cancel}
    return lost | (set(claims) - {str(r[0]) for r in rows}), cancelled


@dataclass
class Watched:
    executor: str
    cancel: CancelToken
    engine: asyncio.Task[Any]


class RunWatcher:
    """Keeps the heartbeat of every run executing on one event loop, passes on cancels and
    stops runs another executor took over: one round of queries per second for all, and a
    beat every ``RUN_HEARTBEAT_S``."""

    def __init__(self) -> None:
        self.runs: dict[str, Watched] = {}
        self._task = asyncio.create_task(self._loop(), name="run-watcher")

    @property
    def running(self) -> bool:
        return not self._task.done()

    async def _loop(self) -> None:
        last_beat = 0.0
        while True:
            await asyncio.sleep(min(cancel_poll_s(), heartbeat_s()))
            if not self.runs:
                continue
            claims = {run_id: w.executor for run_id, w in self.runs.items()}
            # Cancels are looked for at every poll, hearts beaten only as often as they must
            # be: each beat rewrites every running run's row.
            now = asyncio.get_running_loop().time()
            beat = now - last_beat >= heartbeat_s()
            try:
                lost, cancelled = await in_db_thread(keep_alive, claims, beat)
                last_beat = now if beat else last_beat
            except Exception:
                log.warning("Could not beat the runs' heartbeats", exc_info=True)
                continue
            for run_id in lost:
                if run_id in self.runs:
                    self.runs.pop(run_id).engine.cancel()
            for run_id in cancelled:
                watched = self.runs.get(run_id)
                if watched and not watched.cancel.cancelled:
                    watched.cancel.cancel("Cancelled by a person.")
