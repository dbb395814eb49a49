"""The pages people manage workspaces with: making one, the switcher, members and their
roles, invitation links, the activity log, and where each role lands."""

import re

import pytest

from runs.models import Run
from teams.models import Team
from tests.factories import make_run, make_team, make_user
from tests.workspaces.helpers import client_of, role_of, shared_workspace
from workspaces.models import Workspace
from workspaces.roles import PERMISSIONS

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return response.content.decode()


def test_a_workspace_made_on_its_page_is_yours_and_becomes_the_current_one():
    alice = make_user("alice")
    client = client_of(alice)
    made = client.post("/workspaces/", {"name": "Finance close"})
    workspace = Workspace.objects.get(name="Finance close")
    assert made["Location"] == f"/workspaces/{workspace.slug}/members/"
    assert role_of(workspace, "alice") == "owner"
    page = text(client.get("/workspaces/"))
    assert "Finance close" in page and "alice (personal)" in page
    # The switcher in the top bar now has it selected.
    assert re.search(rf'<option value="{workspace.slug}" selected>Finance close</option>', page)


def test_an_owner_adds_a_member_changes_the_role_and_removes_them():
    workspace, users = shared_workspace()
    make_user("bob")
    owner = client_of(users["olivia"])
    members = f"/workspaces/{workspace.slug}/members/"
    owner.post(members + "add/", {"username": "bob", "role": "viewer"})
    assert role_of(workspace, "bob") == "viewer"
    owner.post(members + "bob/", {"role": "runner"})
    assert role_of(workspace, "bob") == "runner"
    page = text(owner.get(members))
    assert 'data-member="bob"' in page and "role-runner" in page
    owner.post(members + "bob/", {"remove": "1"})
    assert role_of(workspace, "bob") is None


def test_the_last_owner_cannot_leave_and_is_told_why():
    workspace, users = shared_workspace()
    owner = client_of(users["olivia"])
    answer = owner.post(
        f"/workspaces/{workspace.slug}/members/olivia/", {"remove": "1"}, follow=True
    )
    assert role_of(workspace, "olivia") == "owner"
    assert "last owner" in text(answer)


def test_an_invitation_link_is_shown_once_and_makes_its_acceptor_a_member():
    workspace, users = shared_workspace()
    owner = client_of(users["olivia"])
    members = f"/workspaces/{workspace.slug}/members/"
    owner.post(f"/workspaces/{workspace.slug}/invitations/", {"role": "runner"})
    first = text(owner.get(members))
    link = re.search(r'<code id="invitation-link">([^<]+)</code>', first).group(1)
    assert "/invitations/wsi_" in link
    assert 'id="invitation-link"' not in text(owner.get(members))  # only once
    path = link[link.index("/invitations/") :]
    carol = client_of(make_user("carol"))
    accepted = carol.post(path)
    assert role_of(workspace, "carol") == "runner"
    assert accepted["Location"] == "/start/"  # a workspace with no team yet
    # The new member works in the workspace they joined.
    assert re.search(rf'<option value="{workspace.slug}" selected>', text(carol.get("/teams/")))


def test_a_viewer_sees_the_members_but_no_way_to_change_them():
    workspace, users = shared_workspace(viewer="vera")
    page = text(client_of(users["vera"]).get(f"/workspaces/{workspace.slug}/members/"))
    assert 'data-member="olivia"' in page
    assert "Make an invitation link" not in page and "Add member" not in page
    assert "needs the owner or admin role" in page
    refused = client_of(users["vera"]).post(
        f"/workspaces/{workspace.slug}/members/add/", {"username": "olivia", "role": "owner"}
    )
    assert refused.status_code == 403


def test_an_auditor_lands_on_runs_and_has_no_teams_link():
    workspace, users = shared_workspace(auditor="audrey")
    auditor = client_of(users["audrey"])
    switched = auditor.post("/workspaces/switch/", {"workspace": workspace.slug, "next": "/teams/"})
    assert switched["Location"] == "/runs/"
    assert auditor.get("/")["Location"] == "/runs/"
    page = text(auditor.get(f"/workspaces/{workspace.slug}/activity/"))
    assert "Activity of Acme" in page
    assert ">Teams</a>" not in page


def test_someone_outside_a_workspace_cannot_tell_it_exists():
    workspace, _ = shared_workspace()
    eve = client_of(make_user("eve"))
    for url in [
        f"/workspaces/{workspace.slug}/members/",
        f"/workspaces/{workspace.slug}/activity/",
    ]:
        assert eve.get(url).status_code == 404
    assert eve.get("/workspaces/no-such-thing/members/").status_code == 404
    assert eve.post("/workspaces/switch/", {"workspace": workspace.slug}).status_code == 404


def test_the_roles_page_shows_every_permission_of_the_matrix():
    page = text(client_of(make_user("alice")).get("/workspaces/roles/"))
    for name in PERMISSIONS:
        assert f"<code>{name}</code>" in page


def test_pages_hide_what_a_runner_may_not_do_and_say_why():
    from teams.services import create_team
    from teams.spec import parse
    from tests.factories import minimal_spec

    workspace, users = shared_workspace(runner="rita", editor="ed")
    team, _ = create_team(users["olivia"], parse(minimal_spec(name="Desk")), workspace=workspace)
    runner, editor = client_of(users["rita"]), client_of(users["ed"])
    for client in (runner, editor):
        client.post("/workspaces/switch/", {"workspace": workspace.slug})
    listed = text(runner.get("/teams/"))
    assert "Desk" in listed and "Run Desk" in listed
    assert "Create team" not in listed and "Delete Desk" not in listed
    assert "needs the owner, admin or editor role; you are runner" in listed
    detail = text(runner.get(f"/teams/{team.pk}/"))
    assert "Rename" not in detail and "Delete team" not in detail and "you are runner" in detail
    assert "Use this template" not in text(runner.get("/templates/"))
    # An editor sees all of it.
    assert "Create team" in text(editor.get("/teams/"))
    assert "Delete team" in text(editor.get(f"/teams/{team.pk}/"))


def badge(page: str) -> str:
    """The top bar's role badge: its class, title and text."""
    found = re.search(
        r'<a href="([^"]*)" class="role-badge ([^"]*)" [^>]*title="([^"]*)">(.*?)</a>', page
    )
    assert found, "no role badge in the top bar"
    return " | ".join(found.groups())


def test_a_workspace_page_shows_the_role_and_links_of_its_own_workspace():
    workspace, users = shared_workspace(viewer="victor")
    victor = client_of(users["victor"])
    # victor works in his personal workspace (owner there) and opens Acme's settings
    page = text(victor.get(f"/workspaces/{workspace.slug}/settings/"))
    assert '<option value="victor" selected>' in page  # still the current one
    assert badge(page) == (
        f"/workspaces/{workspace.slug}/members/ | role-viewer | "
        'Your role in Acme: see its members | viewer<span class="where"> in Acme</span>'
    )
    assert "/activity/" not in page  # a viewer may not read Acme's activity log
    # with Acme chosen, his own workspace's members page shows him its owner, with its log
    victor.post("/workspaces/switch/", {"workspace": workspace.slug, "next": "/runs/"})
    page = text(victor.get("/workspaces/victor/members/"))
    assert re.search(rf'<option value="{workspace.slug}" selected>', page)
    assert badge(page) == (
        "/workspaces/victor/members/ | role-owner | Your role in victor: see its members | "
        'owner<span class="where"> in victor</span>'
    )
    assert 'href="/workspaces/victor/activity/"' in page


def test_an_objects_page_shows_the_role_in_the_objects_workspace():
    workspace, users = shared_workspace(viewer="victor")
    team = make_team(users["olivia"])
    Team.objects.filter(pk=team.pk).update(workspace=workspace)
    # victor, working in his personal workspace, opens a team of Acme's
    page = text(client_of(users["victor"]).get(f"/teams/{team.pk}/"))
    assert badge(page).startswith(f"/workspaces/{workspace.slug}/members/ | role-viewer |")


def test_a_run_page_drawn_by_the_front_end_shows_the_role_in_the_runs_workspace():
    workspace, users = shared_workspace(viewer="victor")
    run = make_run(users["olivia"])
    Run.objects.filter(pk=run.pk).update(workspace=workspace)
    victor = client_of(users["victor"])
    # victor, working in his personal workspace (owner there), opens a run of Acme's: the
    # page is the front-end app's (#run-root), the top bar the server's
    for url in (f"/runs/{run.pk}/", f"/runs/{run.pk}/audit/"):
        page = text(victor.get(url))
        assert '<option value="victor" selected>' in page, url  # still the current one
        assert badge(page) == (
            f"/workspaces/{workspace.slug}/members/ | role-viewer | "
            'Your role in Acme: see its members | viewer<span class="where"> in Acme</span>'
        ), url
    assert 'id="run-root"' in text(victor.get(f"/runs/{run.pk}/"))
