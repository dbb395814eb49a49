"""API tokens reach one workspace with a role no higher than their user's: a viewer token
cannot act as more, cannot see other workspaces, lowers with its user, and expires."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

import runs.actions
from runs.models import Run
from teams.models import ApiToken, TokenRefused
from tests.factories import make_team, make_user
from workspaces.models import Membership, create_workspace

from .helpers import client_of, send, shared_workspace

pytestmark = pytest.mark.django_db


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_viewer_token_sees_only_its_workspace_and_acts_as_a_viewer() -> None:
    workspace, users = shared_workspace(admin="ada")
    create_workspace("Elsewhere", owner=users["ada"])
    _, token = ApiToken.issue(users["ada"], "ci", workspace=workspace, role="viewer")
    client = Client()
    listed = send(client, "get", "/api/workspaces", **bearer(token)).json()
    assert [(w["slug"], w["role"]) for w in listed] == [(workspace.slug, "admin")]
    for slug in ("elsewhere", "ada"):  # her other workspace, her personal one
        assert send(client, "get", f"/api/workspaces/{slug}", **bearer(token)).status_code == 404
    refused = send(
        client,
        "post",
        f"/api/workspaces/{workspace.slug}/invitations",
        {"role": "viewer"},
        **bearer(token),
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Inviting, changing and removing members in Acme needs the owner or admin role; you "
        "are using a token limited to viewer."
    )
    assert (
        send(client, "post", "/api/workspaces", {"name": "New"}, **bearer(token)).status_code == 403
    )


def test_a_viewer_token_cannot_start_a_run_in_its_workspace() -> None:
    workspace, users = shared_workspace()
    team = make_team(users["olivia"])
    team.workspace = workspace
    team.save()
    _, token = ApiToken.issue(users["olivia"], "ci", workspace=workspace, role="viewer")
    response = send(
        Client(), "post", f"/api/teams/{team.pk}/runs", {"input": "go"}, **bearer(token)
    )
    assert response.status_code == 403
    assert "you are using a token limited to viewer" in response.json()["detail"]
    assert not Run.objects.exists()


def test_demoting_the_user_demotes_the_token() -> None:
    workspace, users = shared_workspace(admin="ada")
    _, token = ApiToken.issue(users["ada"], "ci", workspace=workspace)  # her role: admin
    url = f"/api/workspaces/{workspace.slug}"
    assert send(Client(), "patch", url, {"name": "Renamed"}, **bearer(token)).status_code == 200
    Membership.objects.filter(user=users["ada"], workspace=workspace).update(role="viewer")
    refused = send(Client(), "patch", url, {"name": "Again"}, **bearer(token))
    assert refused.status_code == 403
    assert refused.json()["detail"].endswith("you are viewer.")
    Membership.objects.filter(user=users["ada"], workspace=workspace).delete()
    assert send(Client(), "get", url, **bearer(token)).status_code == 404


def test_a_role_above_the_users_is_refused_everywhere() -> None:
    workspace, users = shared_workspace(editor="ed")
    with pytest.raises(TokenRefused, match="higher than its user's"):
        ApiToken.issue(users["ed"], "x", workspace=workspace, role="admin")
    with pytest.raises(TokenRefused, match="not a member"):
        ApiToken.issue(make_user("mallory"), "x", workspace=workspace)
    with pytest.raises(CommandError, match="higher than its user's"):
        call_command("createapitoken", "ed", "--workspace", workspace.slug, "--role", "owner")
    page = client_of(users["ed"]).post(
        "/settings/tokens/", {"name": "x", "workspace": workspace.slug, "role": "owner"}
    )
    assert "higher than its user" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_the_command_makes_a_limited_expiring_token() -> None:
    workspace, _ = shared_workspace(runner="rita")
    out, err = StringIO(), StringIO()
    call_command(
        "createapitoken",
        "rita",
        "--workspace",
        workspace.slug,
        "--role",
        "viewer",
        "--expires-days",
        "3",
        stdout=out,
        stderr=err,
    )
    row = ApiToken.objects.get()
    assert (row.workspace, row.role) == (workspace, "viewer")
    assert timedelta(days=2, hours=23) < row.expires_at - timezone.now() <= timedelta(days=3)
    assert f"in {workspace.slug} as viewer, until" in err.getvalue()
    assert ApiToken.digest_of(out.getvalue().strip()) == row.digest
    with pytest.raises(CommandError, match="1 or more"):
        call_command("createapitoken", "rita", "--expires-days", "0")


def test_an_expired_token_gets_401_and_the_page_says_expired() -> None:
    alice = make_user("alice")
    row, token = ApiToken.issue(alice, "old", expires_at=timezone.now() + timedelta(days=1))
    assert send(Client(), "get", "/api/workspaces", **bearer(token)).status_code == 200
    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert send(Client(), "get", "/api/workspaces", **bearer(token)).status_code == 401
    page = client_of(alice).get("/settings/tokens/").content.decode()
    row_html = page.replace("\n    ", "")
    assert (
        "Expired" in page
        and '"Workspace">alice</td>' in row_html
        and ">owner</span></td>" in row_html
    )


def test_a_run_started_with_a_token_says_which() -> None:
    alice = make_user("alice")
    team = make_team(alice)
    row, token = ApiToken.issue(alice, "ci")
    scoped = ApiToken.user_for(token)
    run = runs.actions.new_run(scoped, team.current_version(), "go")
    assert (run.owner, run.started_by) == (alice, f"token:{row.pk}")
    assert runs.actions.new_run(alice, team.current_version(), "go").started_by == ""
    by_schedule = runs.actions.new_run(
        scoped, team.current_version(), "go", started_by="schedule:4"
    )
    assert by_schedule.started_by == "schedule:4"


def test_the_tokens_page_shows_when_each_token_was_last_used() -> None:
    alice = make_user("alice")
    used, token = ApiToken.issue(alice, "ci")
    ApiToken.issue(alice, "spare")
    assert send(Client(), "get", "/api/workspaces", **bearer(token)).status_code == 200
    used.refresh_from_db()
    when = timezone.localtime(used.last_used_at).strftime("%Y-%m-%d %H:%M")
    assert timezone.now() - used.last_used_at < timedelta(minutes=5)
    rows = client_of(alice).get("/settings/tokens/").content.decode().split("<tr")
    ci = next(row for row in rows if ">ci<" in row)
    spare = next(row for row in rows if ">spare<" in row)
    expires, last_used = '<td data-label="Expires">', '<td data-label="Last used">'
    assert f"{expires}never</td>{last_used}{when}</td>" in ci  # never expires; used just now
    assert f"{expires}never</td>{last_used}never</td>" in spare  # never expires; never used
