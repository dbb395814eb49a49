"""Runs recorded before heads were signed: the upgrade's migration signs their heads as the
database holds them then, a run without one says "No signed head" in plain words, and
``manage.py sign_audit_heads`` signs runs that ended on an older worker during the upgrade."""

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from runs.audit import verify
from runs.chain import GENESIS_HASH
from runs.engine.events import chain_hash
from runs.models import Run
from tests.factories import append_event, make_run, make_user

BEFORE, AFTER = [("runs", "0004_run_wake_at")], [("runs", "0005_run_audit_head")]


def ended_run_without_head(owner: Any, events: int = 3) -> Run:
    """A run that ended on a worker that did not sign heads."""
    run = make_run(owner, status=Run.Status.SUCCEEDED)
    for n in range(events):
        append_event(run, "message", "writer", payload={"content": f"step {n}"})
    return run


@pytest.mark.django_db
def test_a_run_without_a_head_says_so_and_the_command_signs_it() -> None:
    alice = make_user()
    run, empty = ended_run_without_head(alice), make_run(alice)
    result = verify(run)
    assert result["ok"] is False
    assert result["reason"].startswith("No signed head: nothing vouches that these 3 events")

    call_command("sign_audit_heads", stdout=open("/dev/null", "w"))  # noqa: SIM115

    result = verify(run)
    assert (result["ok"], result["signed_seq"]) == (True, 3)
    assert Run.objects.get(id=empty.id).audit_head is None  # nothing recorded, nothing to sign


@pytest.mark.django_db
def test_the_command_leaves_signed_heads_alone() -> None:
    run = ended_run_without_head(make_user())
    call_command("sign_audit_heads", stdout=open("/dev/null", "w"))  # noqa: SIM115
    signed = Run.objects.get(id=run.id).audit_head
    call_command("sign_audit_heads", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Run.objects.get(id=run.id).audit_head == signed


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_signs_the_heads_of_runs_recorded_before_it(capsys: Any) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        # The database as the previous version left it: a finished run with two events.
        old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
        owner = old.get_model("auth", "User").objects.create(username="before")
        run = old.get_model("runs", "Run").objects.create(
            owner=owner, team_name="Old team", spec={}, status="succeeded"
        )
        previous = GENESIS_HASH
        for seq in (1, 2):
            fields = {"seq": seq, "ts": timezone.now(), "type": "message", "key": f"k{seq}",
                      "agent": "", "span_id": "", "parent_span_id": "", "payload": {"n": seq}}  # fmt: skip
            hashed = {**fields, "ts": fields["ts"].isoformat(), "agent": None, "span_id": None,
                      "parent_span_id": None}  # fmt: skip
            previous = chain_hash(previous, hashed)
            old.get_model("runs", "RunEvent").objects.create(run=run, hash=previous, **fields)
    finally:
        MigrationExecutor(connection).migrate(AFTER)
        latest = MigrationExecutor(connection)
        latest.migrate(latest.loader.graph.leaf_nodes())  # the migrations after it too
        MigrationExecutor(connection).loader.build_graph()

    assert (
        "Signed the audit heads of 1 runs recorded before this upgrade." in capsys.readouterr().out
    )
    upgraded = Run.objects.get(id=run.id)
    assert (upgraded.audit_head["seq"], upgraded.audit_head["hash"]) == (2, previous)
    result = verify(upgraded)
    assert (result["ok"], result["signed_seq"]) == (True, 2)
