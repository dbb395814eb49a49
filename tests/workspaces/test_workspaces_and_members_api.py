"""The workspace API: my workspaces with my role; members added, changed and removed under
the rules (only an owner grants owner, an admin cannot touch owners, the last owner stays)."""

import pytest

from runs.models import Run
from tests.factories import make_run, make_team, make_user
from workspaces.models import Workspace

from .helpers import client_of, role_of, send, shared_workspace

pytestmark = pytest.mark.django_db


def test_i_see_my_workspaces_with_my_role_and_create_one_as_its_owner() -> None:
    workspace, users = shared_workspace(viewer="victor")
    victor = client_of(users["victor"])
    listed = {w["slug"]: w for w in victor.get("/api/workspaces").json()}
    assert listed[workspace.slug]["role"] == "viewer"
    assert listed["victor"] == {**listed["victor"], "personal": True, "role": "owner"}
    assert "olivia" not in listed  # someone else's personal workspace

    made = send(victor, "post", "/api/workspaces", {"name": "  Side project "})
    assert made.status_code == 201
    assert made.json()["name"] == "Side project"
    assert role_of(Workspace.objects.get(slug=made.json()["slug"]), "victor") == "owner"


def test_a_blank_name_is_refused() -> None:
    response = send(client_of(make_user("ann")), "post", "/api/workspaces", {"name": "   "})
    assert response.status_code == 422


def test_a_stranger_gets_404_and_a_viewer_403_naming_the_roles() -> None:
    workspace, users = shared_workspace(viewer="victor")
    stranger = client_of(make_user("mallory"))
    for method, url, body in [
        ("get", f"/api/workspaces/{workspace.slug}", None),
        ("get", f"/api/workspaces/{workspace.slug}/members", None),
        ("patch", f"/api/workspaces/{workspace.slug}", {"name": "Mine"}),
        (
            "post",
            f"/api/workspaces/{workspace.slug}/members",
            {"username": "mallory", "role": "owner"},
        ),
    ]:
        assert send(stranger, method, url, body).status_code == 404, url
    refused = send(
        client_of(users["victor"]), "patch", f"/api/workspaces/{workspace.slug}", {"name": "X"}
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "Changing the workspace's name or retention period in Acme needs the owner or admin role; you are viewer."
    )
    workspace.refresh_from_db()
    assert workspace.name == "Acme"


def test_an_admin_renames_and_manages_members_below_owner() -> None:
    workspace, users = shared_workspace(admin="ada")
    make_user("bob")
    ada = client_of(users["ada"])
    url = f"/api/workspaces/{workspace.slug}"
    assert send(ada, "patch", url, {"name": "Acme Labs"}).json()["name"] == "Acme Labs"
    added = send(ada, "post", f"{url}/members", {"username": "bob", "role": "editor"})
    assert added.status_code == 201
    assert added.json()["added_by"] == "ada"
    assert send(ada, "patch", f"{url}/members/bob", {"role": "runner"}).json()["role"] == "runner"
    assert send(ada, "delete", f"{url}/members/bob").status_code == 204
    assert role_of(workspace, "bob") is None
    assert send(ada, "delete", f"{url}/members/bob").status_code == 404


def test_an_admin_cannot_make_an_owner_nor_touch_one() -> None:
    workspace, users = shared_workspace(admin="ada", owner="otto")
    make_user("bob")
    ada = client_of(users["ada"])
    url = f"/api/workspaces/{workspace.slug}/members"
    attempts = [
        ("post", url, {"username": "bob", "role": "owner"}),
        ("patch", f"{url}/ada", {"role": "owner"}),  # promoting herself
        ("patch", f"{url}/otto", {"role": "viewer"}),
        ("delete", f"{url}/otto", None),
    ]
    for method, target, body in attempts:
        response = send(ada, method, target, body)
        assert response.status_code == 403, (method, target)
        assert "owner role" in response.json()["detail"]
    assert (role_of(workspace, "ada"), role_of(workspace, "otto"), role_of(workspace, "bob")) == (
        "admin",
        "owner",
        None,
    )


def test_an_owner_grants_owner_but_the_last_owner_stays() -> None:
    workspace, users = shared_workspace(admin="ada")
    olivia = client_of(users["olivia"])
    url = f"/api/workspaces/{workspace.slug}/members"
    for method, target, body in [
        ("patch", f"{url}/olivia", {"role": "admin"}),
        ("delete", f"{url}/olivia", None),
    ]:
        response = send(olivia, method, target, body)
        assert response.status_code == 409
        assert "last owner" in response.json()["detail"]
    assert send(olivia, "patch", f"{url}/ada", {"role": "owner"}).status_code == 200
    # Now two owners: olivia may step down to admin, then ada is the last owner.
    assert send(olivia, "patch", f"{url}/olivia", {"role": "admin"}).status_code == 200
    assert send(client_of(users["ada"]), "delete", f"{url}/ada").status_code == 409


def test_any_member_may_leave_but_not_remove_others() -> None:
    workspace, users = shared_workspace(viewer="victor", runner="rita")
    victor = client_of(users["victor"])
    url = f"/api/workspaces/{workspace.slug}/members"
    assert send(victor, "delete", f"{url}/rita").status_code == 403
    assert send(victor, "delete", f"{url}/victor").status_code == 403  # removing is managing
    assert send(victor, "post", f"/api/workspaces/{workspace.slug}/leave").status_code == 204
    assert role_of(workspace, "victor") is None
    assert send(victor, "get", f"/api/workspaces/{workspace.slug}").status_code == 404


def test_adding_twice_or_an_unknown_account_is_refused() -> None:
    workspace, users = shared_workspace(viewer="victor")
    olivia = client_of(users["olivia"])
    url = f"/api/workspaces/{workspace.slug}/members"
    assert send(olivia, "post", url, {"username": "victor", "role": "admin"}).status_code == 409
    assert role_of(workspace, "victor") == "viewer"
    assert send(olivia, "post", url, {"username": "nobody", "role": "viewer"}).status_code == 404
    assert send(olivia, "post", url, {"username": "victor", "role": "emperor"}).status_code == 422


def test_a_personal_workspace_cannot_be_deleted_nor_its_person_demoted() -> None:
    alice = make_user("alice")
    client = client_of(alice)
    response = send(client, "delete", "/api/workspaces/alice")
    assert response.status_code == 409
    assert "personal workspace cannot be deleted" in response.json()["detail"]
    bob = make_user("bob")
    added = send(
        client, "post", "/api/workspaces/alice/members", {"username": "bob", "role": "owner"}
    )
    assert added.status_code == 201
    url = "/api/workspaces/alice/members/alice"
    assert send(client_of(bob), "patch", url, {"role": "viewer"}).status_code == 409
    assert send(client_of(bob), "delete", url).status_code == 409
    assert Workspace.objects.filter(slug="alice").exists()


def test_deleting_waits_for_active_runs_and_is_for_owners() -> None:
    workspace, users = shared_workspace(admin="ada")
    team = make_team(users["olivia"])
    team.workspace = workspace
    team.save()
    run = make_run(users["olivia"], team, status=Run.Status.RUNNING, workspace=workspace)
    url = f"/api/workspaces/{workspace.slug}"
    assert send(client_of(users["ada"]), "delete", url).status_code == 403
    olivia = client_of(users["olivia"])
    refused = send(olivia, "delete", url)
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith("Acme still has 1 active run;")
    Run.objects.filter(pk=run.pk).update(status=Run.Status.SUCCEEDED)
    assert send(olivia, "delete", url).status_code == 204
    assert not Workspace.objects.filter(pk=workspace.pk).exists()


def test_a_workspace_parameter_that_is_no_slug_is_a_404_not_a_crash() -> None:
    _, users = shared_workspace()
    olivia = client_of(users["olivia"])
    for bad in ["8%F1%9B%A0%AD%00", "a%00b", "x" * 80, "%C3%9C"]:
        answer = olivia.get(f"/api/teams?workspace={bad}")
        assert answer.status_code == 404, (bad, answer.content)
        assert "was not found" in answer.json()["detail"]
