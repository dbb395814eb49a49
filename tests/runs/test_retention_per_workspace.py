"""Each workspace's retention period: its owners and admins set it (at most the operator's
RUN_RETENTION_DAYS, which is also the default), and ``manage.py archiveruns`` and the daily
pass archive each workspace's runs after its own period, to files the offline check verifies,
leaving them listed with a link to their archive."""

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from runs import archive
from runs.models import Run, RunEvent
from tests.factories import make_ended_run, make_user
from tests.runs.helpers import logged_in
from tests.runs.test_audit_export_verifies_outside_the_product import check
from workspaces import services
from workspaces.models import Activity, Workspace

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def archives(settings: Any, tmp_path: Path) -> Path:
    settings.ARCHIVE_ROOT = tmp_path / "archives"
    return settings.ARCHIVE_ROOT


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    path = tmp_path / "keys.json"
    path.write_bytes(Client().get("/api/audit/public-key").content)
    return path


@pytest.fixture
def alice() -> Any:
    return make_user("alice")


def archiveruns(*args: str) -> str:
    out = StringIO()
    call_command("archiveruns", *args, stdout=out, stderr=out)
    return out.getvalue()


def patch(client: Client, workspace: Workspace, body: dict[str, Any]) -> Any:
    return client.patch(
        f"/api/workspaces/{workspace.slug}", json.dumps(body), content_type="application/json"
    )


def archived(*runs: Run) -> list[bool]:
    return [Run.objects.get(id=run.id).is_archived for run in runs]


def test_each_workspace_archives_after_its_own_period(
    alice: Any, archives: Path, keys: Path, settings: Any
) -> None:
    settings.RUN_RETENTION_DAYS = 90
    # Alice keeps her personal runs a week; Acme keeps the server's 90 days.
    personal = alice.personal_workspace
    acme = services.new_workspace("Acme", alice)
    assert patch(logged_in(alice), personal, {"retention_days": 7}).status_code == 200
    mine_old = make_ended_run(alice, events=4, days_ago=10, workspace=personal)
    mine_recent = make_ended_run(alice, events=4, days_ago=3, workspace=personal)
    acme_kept = make_ended_run(alice, events=4, days_ago=10, workspace=acme)
    acme_old = make_ended_run(alice, events=5, days_ago=100, workspace=acme)

    assert archiveruns("--dry-run") == (
        "2 runs ended longer ago than their workspace keeps them; none archived.\n"
    )
    assert archiveruns().startswith("Archived 2 of 2 runs")
    assert archived(mine_old, mine_recent, acme_kept, acme_old) == [True, False, False, True]
    # The archives verify offline, and the kept runs' events are all still there.
    for run in (mine_old, acme_old):
        run.refresh_from_db()
        code, out = check(archives / run.archive_path, keys)
        assert code == 0 and out.startswith(f"intact: {run.audit_head['seq']} events of run")
        assert not RunEvent.objects.filter(run_id=run.id).exists()
    for run in (mine_recent, acme_kept):
        assert RunEvent.objects.filter(run_id=run.id).count() == 4
    # Archived runs stay listed, with a link to their archive.
    listed = {r["id"]: r for r in logged_in(alice).get("/api/runs").json()["items"]}
    assert listed[str(mine_old.id)]["archive_url"] == f"/api/runs/{mine_old.id}/archive"
    assert listed[str(mine_recent.id)]["archive_url"] is None


def test_the_daily_pass_follows_the_workspaces_without_a_server_period(
    alice: Any, archives: Path, settings: Any
) -> None:
    # The operator keeps every run (0); one workspace chooses 30 days.
    settings.RUN_RETENTION_DAYS = 0
    acme = services.new_workspace("Acme", alice)
    services.set_retention(acme, alice, 30)
    acme_old = make_ended_run(alice, days_ago=40, workspace=acme)
    mine_older = make_ended_run(alice, days_ago=400)  # alice's personal workspace: forever
    archive.retention_pass()
    assert archived(acme_old, mine_older) == [True, False]


def test_nothing_is_due_while_no_period_is_set(alice: Any, archives: Path, settings: Any) -> None:
    settings.RUN_RETENTION_DAYS = 0
    run = make_ended_run(alice, days_ago=4000)
    archive.retention_pass()
    with pytest.raises(CommandError, match="no workspace sets a retention period"):
        archiveruns()
    assert archived(run) == [False]
    # The operator's explicit --older-than still reaches every workspace.
    assert archiveruns("--older-than", "30").startswith("Archived 1 of 1 runs")


def test_a_lower_server_period_caps_a_workspace_that_chose_longer(
    alice: Any, archives: Path, settings: Any
) -> None:
    settings.RUN_RETENTION_DAYS = 365
    acme = services.new_workspace("Acme", alice)
    services.set_retention(acme, alice, 300)
    settings.RUN_RETENTION_DAYS = 60  # the operator lowers it afterwards
    run = make_ended_run(alice, days_ago=100, workspace=acme)
    assert Workspace.objects.get(pk=acme.pk).effective_retention_days == 60
    archiveruns()
    assert archived(run) == [True]


def test_owners_and_admins_set_it_within_the_servers_period(alice: Any, settings: Any) -> None:
    settings.RUN_RETENTION_DAYS = 90
    acme = services.new_workspace("Acme", alice)
    ada, victor = make_user("ada"), make_user("victor")
    services.add_member(acme, alice, "ada", "admin")
    services.add_member(acme, alice, "victor", "editor")

    answer = patch(logged_in(ada), acme, {"retention_days": 30})
    assert answer.status_code == 200
    assert (answer.json()["retention_days"], answer.json()["effective_retention_days"]) == (30, 30)
    assert answer.json()["name"] == "Acme"  # what was not sent is unchanged
    entry = Activity.objects.filter(workspace=acme, action="workspace.retention_changed").get()
    assert (entry.actor, entry.detail) == (ada, {"before": None, "after": 30})

    refused = patch(logged_in(victor), acme, {"retention_days": 1})
    assert refused.status_code == 403
    assert "needs the owner or admin role; you are editor" in refused.json()["detail"]
    # Longer than the server keeps runs, zero, negative or not a number: refused, unchanged.
    for bad in (91, 0, -1, "a month", 10**9):
        refused = patch(logged_in(alice), acme, {"retention_days": bad})
        assert refused.status_code == 422, bad
    said = patch(logged_in(alice), acme, {"retention_days": 91}).json()
    assert "archives runs after 90 days at most (RUN_RETENTION_DAYS)" in json.dumps(said)
    assert Workspace.objects.get(pk=acme.pk).retention_days == 30
    # null goes back to the server's period.
    back = patch(logged_in(alice), acme, {"retention_days": None}).json()
    assert (back["retention_days"], back["effective_retention_days"]) == (None, 90)
    # Someone outside the workspace learns nothing.
    assert patch(logged_in(make_user("mallory")), acme, {"retention_days": 5}).status_code == 404
