"""Retention: finished runs older than the retention period leave the database for archive
files, and stay listed.

Each run's archive is ``ARCHIVE_ROOT/<yyyy-mm>/run-<id>.jsonl``, byte for byte its audit
export (``runs.audit.jsonl_lines``: one event a line, then the signed head), so
``docs/examples/verify_audit.py`` checks an archive as it checks an export. Archiving a run
is three steps, each safe to repeat, so a process killed anywhere leaves nothing lost or
doubled and the next pass finishes the job:

1. write the file (to a temporary name, synced, then renamed: a file under the final name is
   always whole);
2. mark the run archived (path, sha256, time), in one short UPDATE of its row;
3. delete its events, ``EVENT_DELETE_BATCH`` rows per transaction.

A run is marked only after its file is whole, and its events are deleted only once it is
marked; a pass first finishes the deletions of runs marked before.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from workspaces.models import Workspace, effective_retention_days

from . import audit
from .models import Run, RunEvent, RunQuerySet

#: Events deleted per transaction. Each DELETE locks only the rows it removes (events of
#: runs nobody writes to any more) until it commits. benchmarks/retention.py, 20 runs of 5,000
#: events on our 2-core machine while other test suites ran: 51 ms per DELETE at the median,
#: 281 ms at worst, 5,000 events/s; a live run's appends meanwhile 11 ms at the median (7 ms
#: with no pass), 64 ms at p99.
EVENT_DELETE_BATCH = 2000


@dataclass
class Pass:
    """What one pass of ``archive_old_runs`` did."""

    archived: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    events_deleted: int = 0
    #: How long each DELETE transaction took, so held its rows' locks.
    delete_ms: list[float] = field(default_factory=list)
    due: int = 0

    @property
    def longest_delete_ms(self) -> float:
        return max(self.delete_ms, default=0.0)


def ended_before(days: int) -> Q:
    cutoff = timezone.now() - timedelta(days=days)
    return Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff)


def retention_periods() -> Q | None:
    """Which runs each workspace's retention period makes due (``Workspace.retention_days``
    under the operator's RUN_RETENTION_DAYS, its default and ceiling); None when no
    workspace's runs are ever due. One condition per distinct period, not per workspace."""
    periods: dict[int, list[int]] = {}
    for pk, own in Workspace.objects.values_list("pk", "retention_days"):
        if (days := effective_retention_days(own)) is not None:
            periods.setdefault(days, []).append(pk)
    if not periods:
        return None
    condition = Q()
    for days, workspaces in periods.items():
        condition |= Q(workspace_id__in=workspaces) & ended_before(days)
    return condition


def due(older_than_days: int | None = None) -> RunQuerySet:
    """Finished runs that ended more than ``older_than_days`` ago (by default: more than
    their workspace's retention period) and are not archived yet. Queued, running and
    waiting runs never are, however old; nor runs without events (a run cancelled before it
    started), which have nothing to move."""
    if older_than_days is not None:
        condition = ended_before(older_than_days)
    elif (periods := retention_periods()) is not None:
        condition = periods
    else:
        return Run.objects.none()
    has_events = Exists(RunEvent.objects.filter(run=OuterRef("pk")))
    return (
        Run.objects.finished()
        .filter(condition, has_events, archived_at__isnull=True)
        .order_by("created_at")
    )


def archive_old_runs(older_than_days: int | None, batch: int, dry_run: bool = False) -> Pass:
    """Archive every run ``due(older_than_days)``, ``batch`` runs at a time; None: each
    workspace's retention period."""
    done = Pass(due=due(older_than_days).count())
    if dry_run:
        return done
    _delete_events(_marked_with_events(), done)
    while ids := list(
        due(older_than_days).exclude(id__in=done.skipped).values_list("id", flat=True)[:batch]
    ):
        marked = []
        for run in Run.objects.filter(id__in=ids):
            problem = archive_run(run)
            if problem:
                done.skipped[str(run.id)] = problem
            else:
                marked.append(run.id)
                done.archived.append(str(run.id))
        _delete_events(marked, done)
    # A pass killed while its UPDATE waited on a lock leaves the statement running in its
    # server process, which marks the run once the lock clears: maybe after this pass looked
    # for marked runs above, and then the run is no longer due either. Look once more.
    _delete_events(_marked_with_events(), done)
    return done


def archive_run(run: Run) -> str | None:
    """Steps 1 and 2 for one run; the reason it was left alone, or None. A run whose trail
    does not verify is kept in the database, where it can be looked into."""
    result = audit.verify(run)
    if not result["ok"]:
        return f"its audit trail does not verify ({result['reason']}); it was left in the database"
    relative = f"{run.created_at:%Y-%m}/run-{run.id}.jsonl"
    digest = write_file(settings.ARCHIVE_ROOT / relative, audit.jsonl_lines(run))
    Run.objects.filter(
        id=run.id, archived_at__isnull=True, status__in=Run.FINISHED_STATUSES
    ).update(archived_at=timezone.now(), archive_path=relative, archive_sha256=digest)
    return None


def write_file(path: Path, lines: Iterable[str]) -> str:
    """Write ``lines`` to ``path`` whole or not at all; returns the file's sha256. Writing
    the same run again gives the same bytes (its events and head no longer change)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as file:
            for line in lines:
                data = line.encode()
                digest.update(data)
                file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)
    return digest.hexdigest()


def _marked_with_events() -> list[uuid.UUID]:
    """Runs marked archived whose events a killed pass did not finish deleting (one probe of
    the (run, seq) index per archived run)."""
    has_events = Exists(RunEvent.objects.filter(run=OuterRef("pk")))
    return list(Run.objects.archived().filter(has_events).values_list("id", flat=True))


def _delete_events(run_ids: list[uuid.UUID], done: Pass) -> None:
    """Step 3: delete the events of runs already marked, a short transaction at a time."""
    if not run_ids:
        return
    events = RunEvent.objects.filter(run_id__in=run_ids, run__archived_at__isnull=False)
    while ids := list(events.values_list("id", flat=True)[:EVENT_DELETE_BATCH]):
        started = time.perf_counter()
        with transaction.atomic():
            # A QuerySet delete, not RunEvent.delete(): events are removed only here, only
            # once their run's archive is whole.
            deleted, _ = RunEvent.objects.filter(id__in=ids).delete()
        done.delete_ms.append((time.perf_counter() - started) * 1000)
        done.events_deleted += deleted


@shared_task(ignore_result=True)
def retention_pass() -> None:
    """The daily retention pass: wire it into Celery beat (docs/operating.md, "Retention").
    Archives each workspace's runs past its retention period; does nothing while
    RUN_RETENTION_DAYS is 0 and no workspace sets one. Two passes at once are harmless: each
    step is safe to repeat."""
    archive_old_runs(None, settings.ARCHIVE_BATCH)
