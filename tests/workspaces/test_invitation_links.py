"""Invitation links, attacked: an admin cannot mint an owner invitation, a member of A cannot
invite into B, a used, expired or revoked link is refused, a link bound to an address admits
only that account, a demoted inviter's links stop working, and two accepts of one link make
one membership. Only the digest is stored."""

import threading
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone

from tests.factories import PASSWORD, make_user
from workspaces import services
from workspaces.models import Invitation, Membership, create_workspace

from .helpers import client_of, role_of, send, shared_workspace

pytestmark = pytest.mark.django_db


def invite(client: Client, slug: str, role: str, email: str = "") -> tuple[int, dict]:
    response = send(
        client, "post", f"/api/workspaces/{slug}/invitations", {"role": role, "email": email}
    )
    return response.status_code, response.json()


def path_of(url: str) -> str:
    return url[url.index("/invitations/") :]


def test_an_invitation_link_makes_a_member_once() -> None:
    workspace, users = shared_workspace(admin="ada")
    status, made = invite(client_of(users["ada"]), workspace.slug, "editor")
    assert status == 201
    token = made["url"].rsplit("/", 1)[1]
    assert made["status"] == "open"
    assert not Invitation.objects.filter(digest=token).exists()  # only the digest is kept
    assert Invitation.objects.get(pk=made["id"]).digest == Invitation.digest_of(token)

    bob = client_of(make_user("bob"))
    page = bob.get(path_of(made["url"]))
    assert page.status_code == 200
    assert b"as <strong>editor</strong>" in page.content
    joined = bob.post(path_of(made["url"]))
    assert joined.status_code == 302 and joined["Location"] == "/start/"  # no team there yet
    assert bob.session["workspace"] == workspace.slug  # the pages now work in it
    assert role_of(workspace, "bob") == "editor"

    carol = client_of(make_user("carol"))
    again = carol.post(path_of(made["url"]))
    assert again.status_code == 410
    assert b"was used" in again.content
    assert role_of(workspace, "carol") is None
    listed = send(
        client_of(users["ada"]), "get", f"/api/workspaces/{workspace.slug}/invitations"
    ).json()
    assert listed[0] | {"url": None} == listed[0]
    assert (listed[0]["status"], listed[0]["used_by"]) == ("used", "bob")


def test_an_admin_cannot_mint_an_owner_invitation() -> None:
    workspace, users = shared_workspace(admin="ada")
    status, body = invite(client_of(users["ada"]), workspace.slug, "owner")
    assert status == 403
    assert "owner role" in body["detail"]
    assert not Invitation.objects.exists()
    assert invite(client_of(users["olivia"]), workspace.slug, "owner")[0] == 201


@pytest.mark.parametrize("role", ["editor", "runner", "viewer", "auditor"])
def test_members_below_admin_cannot_invite(role: str) -> None:
    workspace, users = shared_workspace(**{role: "mem"})
    status, body = invite(client_of(users["mem"]), workspace.slug, "viewer")
    assert status == 403
    assert body["detail"].endswith(f"needs the owner or admin role; you are {role}.")


def test_a_member_of_a_cannot_invite_into_b_nor_list_or_revoke_its_links() -> None:
    a, a_users = shared_workspace("A", admin="ada")
    b = create_workspace("B", owner=make_user("bea"))
    mine = services.invite(b, b.created_by, "viewer")[0]
    ada = client_of(a_users["ada"])
    assert invite(ada, b.slug, "viewer")[0] == 404
    assert send(ada, "get", f"/api/workspaces/{b.slug}/invitations").status_code == 404
    assert send(ada, "delete", f"/api/workspaces/{a.slug}/invitations/{mine.pk}").status_code == 404
    assert send(ada, "delete", f"/api/workspaces/{b.slug}/invitations/{mine.pk}").status_code == 404
    mine.refresh_from_db()
    assert mine.status == "open"


def test_a_revoked_or_expired_link_is_refused() -> None:
    workspace, users = shared_workspace()
    olivia = client_of(users["olivia"])
    _, revoked = invite(olivia, workspace.slug, "viewer")
    url = f"/api/workspaces/{workspace.slug}/invitations/{revoked['id']}"
    assert send(olivia, "delete", url).status_code == 204
    _, expired = invite(olivia, workspace.slug, "viewer")
    Invitation.objects.filter(pk=expired["id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    mallory = client_of(make_user("mallory"))
    for made, word in [(revoked, b"was revoked"), (expired, b"was expired")]:
        response = mallory.post(path_of(made["url"]))
        assert response.status_code == 410
        assert word in response.content
    assert mallory.post("/invitations/wsi_made-up").status_code == 410
    assert role_of(workspace, "mallory") is None


def test_a_link_for_an_address_admits_only_that_account() -> None:
    workspace, users = shared_workspace()
    _, made = invite(client_of(users["olivia"]), workspace.slug, "runner", "Bob@Example.org")
    mallory = client_of(make_user("mallory"))
    refused = mallory.post(path_of(made["url"]))
    assert refused.status_code == 409
    assert b"This invitation is for Bob@Example.org" in refused.content
    assert client_of(make_user("bob")).post(path_of(made["url"])).status_code == 302
    assert (role_of(workspace, "mallory"), role_of(workspace, "bob")) == (None, "runner")


def test_an_inviter_demoted_since_cannot_still_let_people_in() -> None:
    workspace, users = shared_workspace(admin="ada")
    _, made = invite(client_of(users["ada"]), workspace.slug, "admin")
    Membership.objects.filter(workspace=workspace, user=users["ada"]).update(role="viewer")
    response = client_of(make_user("bob")).post(path_of(made["url"]))
    assert response.status_code == 409
    assert b"can no longer grant that role" in response.content
    assert role_of(workspace, "bob") is None


def test_a_bad_invitation_body_is_refused() -> None:
    workspace, users = shared_workspace()
    olivia = client_of(users["olivia"])
    assert invite(olivia, workspace.slug, "overlord")[0] == 422
    assert invite(olivia, workspace.slug, "viewer", "not an address")[0] == 422


def test_logged_out_the_page_offers_log_in_and_sign_up_then_comes_back() -> None:
    workspace, users = shared_workspace()
    _, made = invite(client_of(users["olivia"]), workspace.slug, "viewer")
    path = path_of(made["url"])
    anonymous = Client()
    page = anonymous.get(path).content.decode()
    assert f"/login/?next={path}" in page
    assert "/signup/?invite=wsi_" in page
    assert anonymous.post(path).status_code == 200  # no account: nothing accepted
    make_user("bob")
    logged_in = anonymous.post("/login/", {"username": "bob", "password": PASSWORD, "next": path})
    assert logged_in["Location"] == path
    assert anonymous.post(path).status_code == 302
    assert role_of(workspace, "bob") == "viewer"


@override_settings(SIGNUP="invite")
def test_with_invite_only_sign_up_a_workspace_link_admits_one_account() -> None:
    workspace, users = shared_workspace()
    _, made = invite(client_of(users["olivia"]), workspace.slug, "runner")
    token = made["url"].rsplit("/", 1)[1]
    assert Client().get("/signup/").status_code == 403
    form = {
        "username": "newbie",
        "email": "n@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "invite": token,
    }
    newcomer = Client()
    signed_up = newcomer.post("/signup/", form)
    assert signed_up.status_code == 302
    assert newcomer.session["workspace"] == workspace.slug  # lands in the workspace joined
    assert role_of(workspace, "newbie") == "runner"
    second = Client().post("/signup/", {**form, "username": "another"})
    assert second.status_code == 403
    assert not User.objects.filter(username="another").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_accepts_of_one_link_at_once_make_one_membership() -> None:
    workspace, users = shared_workspace()
    _, token = services.invite(workspace, users["olivia"], "editor")
    takers = [make_user(f"taker{i}") for i in range(4)]
    barrier = threading.Barrier(len(takers))
    outcomes: list[str] = []

    def take(user) -> None:
        try:
            barrier.wait()
            services.accept(token, user)
            outcomes.append("joined")
        except (services.InvitationRefused, services.Conflict):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(u,)) for u in takers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["joined", "refused", "refused", "refused"]
    joined = Membership.objects.filter(workspace=workspace, user__in=takers)
    assert joined.count() == 1
    assert Invitation.objects.get().used_by == joined.get().user
