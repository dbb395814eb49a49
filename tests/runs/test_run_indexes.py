"""Runs and events keep only the indexes their queries need (docs/architecture.md, "Run
indexes"): every query that relied on a dropped index still finds its rows through one, and
the upgrade goes back to the old indexes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Count, QuerySet
from django.utils import timezone

from runs.models import Run, RunEvent
from tests.factories import make_run, make_user
from tests.support.migrating import schema_at

BEFORE = [("runs", "0010_webhooks_hear_of_escalations"), ("evaluations", "0002_cassettes")]


def plan(rows: QuerySet) -> str:
    """The plan of ``rows`` when a sequential scan is the last resort (a test's tables are
    too small for the planner to prefer an index on its own)."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            return rows.explain()
        finally:
            cursor.execute("SET enable_seqscan = on")


def index_names(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_queries_that_lost_an_index_still_use_one() -> None:
    alice = make_user()
    source = make_run(alice)
    stale = timezone.now() - timedelta(minutes=5)
    sweeps = {
        "run_unfinished_status": Run.objects.filter(status="running", heartbeat_at__lt=stale),
        "run_source_run": Run.objects.filter(source_run_id__in=[source.id]),
        "runs_run_owner": Run.objects.filter(owner=alice).order_by("-created_at"),
        "runs_run_workspa": Run.objects.filter(workspace=source.workspace),
        "unique_run_event": RunEvent.objects.filter(run=source, type="human.requested"),
    }
    for index, rows in sweeps.items():
        assert index in plan(rows), f"{index} not used by {rows.query}"
    metrics = Run.objects.active().values_list("status")
    assert "run_unfinished_status" in plan(metrics)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_list_of_failed_or_cancelled_runs_reads_only_those() -> None:
    """The runs list filtered by a rare status (and its count) finds its few runs through an
    index of them, rather than walking every run of the workspace (with a million runs,
    0.1 % failed: 140 ms for a page and 120 for its count, against under 2 ms)."""
    alice = make_user()
    source = make_run(alice)
    Run.objects.bulk_create(
        Run(owner=alice, workspace=source.workspace, team_name="t", spec={}, status=status)
        for status in ["succeeded"] * 2000 + ["failed"] * 3 + ["cancelled"] * 2
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE runs_run")
    for status in ("failed", "cancelled"):
        listed = Run.objects.filter(workspace=source.workspace, status=status)
        assert "run_failed_or_cancelled" in plan(listed[:50]), status
        counted = listed.values("workspace").annotate(n=Count("id"))  # the page's count
        assert "run_failed_or_cancelled" in plan(counted), status
    assert listed.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_upgrade_goes_back_to_the_old_indexes_and_forward_again() -> None:
    run = make_run(make_user(), status=Run.Status.RUNNING)
    dropped = {"runs_run_status_7f93e232", "runs_run_owner_id_b1defaec"}
    assert not dropped & index_names("runs_run")

    with schema_at(BEFORE):
        assert dropped <= index_names("runs_run")
        assert "run_unfinished_status" not in index_names("runs_run")
        assert "runs_runevent_run_id_8bd13aa7" in index_names("runs_runevent")

    assert {"run_unfinished_status", "run_source_run"} <= index_names("runs_run")
    assert not dropped & index_names("runs_run")
    assert Run.objects.get(id=run.id).status == Run.Status.RUNNING
