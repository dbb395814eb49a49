"""Publishing destinations are not shared by every user: each person's runs write into an
outbox folder of their own, and only runs of staff accounts reach the operator's publishing
webhooks (PUBLISH_WEBHOOK_URLS). A user's team that publishes cannot post to the operator's
destination, nor write where another person's pieces are."""

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.factories import install_templates, make_user
from tests.ops.helpers import http_receiver
from tests.runs.helpers import logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any, tmp_path: Path) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.OUTBOX_DIR = tmp_path / "outbox"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    install_templates()


def publish_a_piece(user: User) -> None:
    """The content-production template, run by ``user``: it ends with ``publish``."""
    client = logged_in(user)
    response = client.post("/api/templates/content-production/instantiate")
    assert response.status_code == 201, response.content
    sample = json.loads((ROOT / "teams/team_templates/content-production/input.json").read_text())
    run = wait_for_status(start(client, response.json()["id"], sample), "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason


def pieces(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.md")}


def test_a_users_run_cannot_post_to_the_operators_webhook(settings: Any) -> None:
    alice = make_user("alice")
    with http_receiver([200]) as operators:
        settings.PUBLISH_WEBHOOK_URLS = {
            platform: f"{operators.url}/{platform}"
            for platform in ("blog", "newsletter", "linkedin", "x")
        }
        publish_a_piece(alice)
        assert operators.requests == []  # nothing of alice's reached the operator's receiver
        # a staff account's run publishes there as before
        publish_a_piece(make_user("carol", is_staff=True))
        assert operators.requests


def test_each_persons_pieces_stay_in_their_own_outbox(settings: Any) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    publish_a_piece(alice)
    publish_a_piece(bob)
    outbox = Path(settings.OUTBOX_DIR)
    assert {p.name for p in outbox.iterdir()} == {f"user-{alice.id}", f"user-{bob.id}"}
    mine, his = pieces(outbox / f"user-{alice.id}"), pieces(outbox / f"user-{bob.id}")
    assert mine and his and not mine & his
