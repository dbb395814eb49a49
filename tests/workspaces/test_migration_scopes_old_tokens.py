"""Migration teams 0010: a token made before workspaces keeps working as before: it goes to
its user's personal workspace with the owner role (made for a user who had none yet), and
the workspace column is then required. Run on a database filled by the old schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from teams.models import ApiToken
from tests.support.migrating import migrate, schema_at

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

BEFORE = [("teams", "0009_workspace_required")]


@pytest.fixture
def old_schema() -> Iterator[Any]:
    with schema_at(BEFORE) as apps:
        yield apps


def test_old_tokens_go_to_their_users_personal_workspace_as_owner(old_schema: Any) -> None:
    User = old_schema.get_model("auth", "User")
    OldToken = old_schema.get_model("teams", "ApiToken")
    Workspace = old_schema.get_model("workspaces", "Workspace")
    alice = User.objects.create(username="alice")  # historical models: no personal workspace
    bob = User.objects.create(username="bob")
    Workspace.objects.create(slug="bobs", name="bob", personal_for=bob, created_by=bob)
    for user, digest in [(alice, "a" * 64), (bob, "b" * 64)]:
        OldToken.objects.create(user=user, name="old", hint="ato_x", digest=digest)

    migrate([("teams", "0010_apitoken_workspace")])

    moved = {t.user.username: t for t in ApiToken.objects.select_related("workspace")}
    assert (moved["alice"].workspace.personal_for_id, moved["alice"].role) == (alice.pk, "owner")
    assert (moved["bob"].workspace.slug, moved["bob"].role) == ("bobs", "owner")
    assert moved["alice"].expires_at is None
    column = next(
        c
        for c in connection.introspection.get_table_description(
            connection.cursor(), "teams_apitoken"
        )
        if c.name == "workspace_id"
    )
    assert column.null_ok is False
