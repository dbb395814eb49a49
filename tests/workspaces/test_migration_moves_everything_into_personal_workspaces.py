"""The workspace migrations (workspaces 0001-0002, teams 0008-0009, runs 0008-0009) on a
database filled by the code before them: every user gets a personal workspace they own, and
everything they had is in it, with nothing lost and every audit chain still verifying."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from runs.chain import GENESIS_HASH
from runs.engine.events import chain_hash
from runs.heads import sign
from runs.models import RunEvent as RealEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = [("teams", "0007_model_providers"), ("runs", "0007_run_archive"), ("workspaces", None)]
OWNED = {
    "teams": ["Team", "ModelConfig", "Secret", "CustomTool"],
    "runs": ["Run"],
}


def migrate(targets: list[tuple[str, str | None]]) -> Any:
    """Migrate to ``targets``; the apps (every app's historical models) as they are then."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets).apps


def latest() -> list[tuple[str, str]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


@pytest.fixture
def old_schema() -> Iterator[Any]:
    """The apps as they were before workspaces, on a database migrated back to then; migrated
    forward again afterwards, whatever happens."""
    apps = migrate(BEFORE)
    try:
        yield apps
    finally:
        migrate(latest())


def fill(apps: Any, username: str, teams: int) -> dict[str, Any]:
    """What the old code stored for one person: teams with two versions, a finished run of
    each with a signed chain of events, a model, a secret, a tool, a webhook, a schedule and
    a trigger."""
    get = apps.get_model
    user = get("auth", "User").objects.create(username=username)
    get("teams", "ModelConfig").objects.create(
        owner=user, name=f"{username}-model", provider="offline", model="sim"
    )
    get("teams", "Secret").objects.create(
        owner=user, name="KEY", hosts=["a.example"], ciphertext="x"
    )
    get("teams", "CustomTool").objects.create(
        owner=user, name=f"{username}_tool", description="d", url="https://a.example/x"
    )
    runs = []
    for n in range(teams):
        spec = {"name": f"{username} team {n}", "pattern": "supervisor"}
        team = get("teams", "Team").objects.create(
            owner=user, name=spec["name"], pattern="supervisor", spec=spec, version=2
        )
        for number in (1, 2):
            get("teams", "TeamVersion").objects.create(
                team=team, number=number, spec=spec, created_by=user, is_valid=True
            )
        get("runs", "Webhook").objects.create(
            team=team, url="https://93.184.216.34/h", events=["finished"], secret="s"
        )
        get("triggers", "Schedule").objects.create(
            team=team, cron="0 9 * * 1", armed_at=timezone.now()
        )
        get("triggers", "Trigger").objects.create(team=team, secret_encrypted="x")
        runs.append(old_run(apps, user, team))
    return {"user": user, "runs": runs}


def old_run(apps: Any, user: Any, team: Any) -> Any:
    Run, RunEvent = apps.get_model("runs", "Run"), apps.get_model("runs", "RunEvent")
    run = Run.objects.create(
        owner=user, team=team, team_name=team.name, spec=team.spec, input={}, status="succeeded",
        finished_at=timezone.now(),
    )  # fmt: skip
    previous, start = GENESIS_HASH, timezone.now() - timedelta(minutes=1)
    for seq in range(1, 4):
        fields = {"seq": seq, "ts": start + timedelta(seconds=seq), "type": "message",
                  "key": f"m{seq}", "agent": "lead", "payload": {"content": f"step {seq} ✓"}}  # fmt: skip
        previous = chain_hash(previous, RealEvent(**fields).hashed_fields())
        RunEvent.objects.create(run=run, hash=previous, **fields)
    Run.objects.filter(pk=run.pk).update(audit_head=sign(run.id, 3, previous))
    return run


def counts(apps: Any) -> dict[str, int]:
    names = [("teams", m) for m in (*OWNED["teams"], "TeamVersion")] + [
        ("runs", "Run"), ("runs", "RunEvent"), ("runs", "Webhook"),
        ("triggers", "Schedule"), ("triggers", "Trigger"),
    ]  # fmt: skip
    return {f"{app}.{name}": apps.get_model(app, name).objects.count() for app, name in names}


def test_every_users_things_move_into_their_own_personal_workspace(old_schema: Any) -> None:
    alice = fill(old_schema, "alice", teams=2)
    bob = fill(old_schema, "bob", teams=1)
    carol = old_schema.get_model("auth", "User").objects.create(username="carol")  # owns nothing
    before = counts(old_schema)

    new = migrate(latest())

    from django.contrib.auth.models import User

    from runs import audit
    from runs.models import Run
    from workspaces.models import Membership, Workspace

    assert counts(new) == before  # nothing lost, nothing doubled
    for person in (alice["user"], bob["user"], carol):
        user = User.objects.get(pk=person.pk)
        workspace = Workspace.objects.get(personal_for=user)
        assert list(Membership.objects.filter(workspace=workspace).values_list("user", "role")) == [
            (user.pk, "owner")
        ]
        for app, names in OWNED.items():
            for name in names:
                rows = new.get_model(app, name).objects.filter(owner_id=user.pk)
                assert all(r.workspace_id == workspace.pk for r in rows), (app, name, user)
    assert Workspace.objects.count() == 3
    for old in alice["runs"] + bob["runs"]:
        run = Run.objects.get(pk=old.pk)
        result = audit.verify(run)
        assert result["ok"] and result["events"] == 3, result
