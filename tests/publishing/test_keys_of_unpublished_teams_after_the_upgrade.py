"""Keys of a publication taken down before the upgrade: the upgrade revokes them as of the
takedown, so publishing the team again does not bring them back; a live publication's keys
are left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from publishing.models import PublicationKey
from tests.support.migrating import schema_at

BEFORE = [("publishing", "0002_widget")]


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_revokes_the_keys_of_publications_taken_down() -> None:
    taken_down = timezone.now() - timedelta(days=3)
    with schema_at(BEFORE) as old:
        # The database as the previous version left it: one publication live, one down,
        # each with a key nobody revoked.
        owner = old.get_model("auth", "User").objects.create(username="before")
        workspace = old.get_model("workspaces", "Workspace").objects.create(name="W", slug="w")
        team = old.get_model("teams", "Team").objects.create(
            owner=owner, workspace=workspace, name="Help desk", spec={}
        )
        Publication = old.get_model("publishing", "Publication")
        Key = old.get_model("publishing", "PublicationKey")
        live = Publication.objects.create(team=team, version=1, slug="live", published_by=owner)
        down = Publication.objects.create(
            team=team, version=1, slug="down", published_by=owner, unpublished_at=taken_down
        )
        Key.objects.create(publication=live, name="live key", hint="pub_a", digest="a" * 64)
        Key.objects.create(publication=down, name="old key", hint="pub_b", digest="b" * 64)

    assert PublicationKey.objects.get(name="old key").revoked_at == taken_down
    assert PublicationKey.objects.get(name="live key").revoked_at is None
