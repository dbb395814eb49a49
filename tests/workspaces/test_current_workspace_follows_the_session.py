"""``workspaces.current(request)``: the workspace pages create things in."""

import pytest
from django.test import RequestFactory

import workspaces
from tests.factories import make_user
from workspaces.models import Membership, create_workspace, personal_workspace

pytestmark = pytest.mark.django_db


def request_for(user, session):
    request = RequestFactory().get("/")
    request.user = user
    request.session = session
    return request


def test_it_is_the_personal_workspace_when_none_was_chosen():
    alice = make_user("alice")
    assert workspaces.current(request_for(alice, {})) == personal_workspace(alice)


def test_it_is_the_chosen_workspace_while_still_a_member():
    alice, bob = make_user("alice"), make_user("bob")
    shared = create_workspace("Shared", owner=bob)
    Membership.objects.create(workspace=shared, user=alice, role="viewer")
    session: dict = {}
    workspaces.choose(request_for(alice, session), shared)
    assert workspaces.current(request_for(alice, session)) == shared
    # Removed from it: back to the personal one, never the old workspace.
    Membership.objects.filter(workspace=shared, user=alice).delete()
    assert workspaces.current(request_for(alice, session)) == personal_workspace(alice)


def test_a_slug_in_the_session_of_a_workspace_one_is_not_in_is_ignored():
    alice, bob = make_user("alice"), make_user("bob")
    create_workspace("Bobs", owner=bob)
    request = request_for(alice, {workspaces.SESSION_KEY: "bobs"})
    assert workspaces.current(request) == personal_workspace(alice)
