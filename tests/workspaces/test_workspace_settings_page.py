"""The workspace's settings page: owners and admins rename it and choose how long its finished
runs stay in the database (at most the operator's RUN_RETENTION_DAYS), through the same
services as the API, so the activity log records it; other roles read the settings and why
they cannot change them."""

from typing import Any

import pytest

from tests.workspaces.helpers import client_of, shared_workspace
from workspaces.models import Activity, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(settings: Any) -> tuple[Workspace, dict[str, Any]]:
    settings.RUN_RETENTION_DAYS = 90
    return shared_workspace(admin="ada", editor="ed", viewer="vic")


def url(workspace: Workspace) -> str:
    return f"/workspaces/{workspace.slug}/settings/"


def test_an_admin_sets_the_retention_and_the_activity_log_says_so(acme: Any) -> None:
    workspace, users = acme
    ada = client_of(users["ada"])
    page = ada.get(url(workspace)).content.decode()
    # The ceiling is explained before anything is chosen.
    assert "at most <strong>90 days</strong>" in page and "RUN_RETENTION_DAYS" in page
    saved = ada.post(url(workspace), {"name": "Acme close", "retention_days": "30"}, follow=True)
    assert "The settings of Acme close are saved." in saved.content.decode()
    workspace.refresh_from_db()
    assert (workspace.name, workspace.retention_days) == ("Acme close", 30)
    assert workspace.effective_retention_days == 30
    entry = Activity.objects.get(workspace=workspace, action="workspace.retention_changed")
    # Exactly what the API's PATCH records (tests/runs/test_retention_per_workspace.py).
    assert (entry.actor, entry.detail) == (users["ada"], {"before": None, "after": 30})
    assert Activity.objects.filter(workspace=workspace, action="workspace.renamed").count() == 1
    # Emptying the field goes back to the server's period, and is recorded too.
    ada.post(url(workspace), {"name": "Acme close", "retention_days": ""})
    workspace.refresh_from_db()
    assert (workspace.retention_days, workspace.effective_retention_days) == (None, 90)
    assert Activity.objects.filter(action="workspace.retention_changed").count() == 2


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("91", "This server archives runs after 90 days at most (RUN_RETENTION_DAYS)"),
        ("0", "greater than or equal to 1"),
        ("-5", "greater than or equal to 1"),
        ("a month", "Enter a whole number."),
        (str(10**12), "archives runs after 90 days at most"),
    ],
)
def test_a_period_the_server_does_not_allow_is_refused_in_place(
    acme: Any, given: str, said: str
) -> None:
    workspace, users = acme
    answer = client_of(users["olivia"]).post(
        url(workspace), {"name": "Renamed", "retention_days": given}
    )
    assert answer.status_code == 422
    page = answer.content.decode()
    assert 'id="retention_days-error"' in page and said in page
    assert f'value="{given}"' in page  # what was typed stays, next to why it was refused
    workspace.refresh_from_db()
    assert (workspace.name, workspace.retention_days) == ("Acme", None)  # nothing changed
    assert not Activity.objects.filter(action__startswith="workspace.re").exists()


def test_without_a_server_period_any_century_or_less_may_be_chosen(
    acme: Any, settings: Any
) -> None:
    settings.RUN_RETENTION_DAYS = 0
    workspace, users = acme
    owner = client_of(users["olivia"])
    assert "sets no period of its own" in owner.get(url(workspace)).content.decode()
    assert owner.post(url(workspace), {"name": "Acme", "retention_days": "3650"}).status_code == 302
    refused = owner.post(url(workspace), {"name": "Acme", "retention_days": "36501"})
    assert refused.status_code == 422 and "a century" in refused.content.decode()


def test_other_roles_read_the_settings_and_why_they_cannot_change_them(acme: Any) -> None:
    workspace, users = acme
    for name in ("ed", "vic"):
        client = client_of(users[name])
        page = client.get(url(workspace)).content.decode()
        assert 'id="workspace-settings"' not in page  # no form
        assert "90 days (the server's period)" in page
        assert "needs the owner or admin role" in page
        # Posting anyway is refused, and changes nothing.
        refused = client.post(url(workspace), {"name": "Mine", "retention_days": "1"})
        assert refused.status_code == 403
    workspace.refresh_from_db()
    assert (workspace.name, workspace.retention_days) == ("Acme", None)


def test_a_name_with_markup_is_shown_as_text(acme: Any) -> None:
    workspace, users = acme
    owner = client_of(users["olivia"])
    owner.post(url(workspace), {"name": "<script>alert(1)</script>", "retention_days": ""})
    page = owner.get(url(workspace)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
