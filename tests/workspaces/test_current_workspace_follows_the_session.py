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


def test_every_page_learns_its_workspace_role_and_switcher_in_one_query(
    django_assert_num_queries,
):
    from workspaces.context import workspace as page_context

    alice, bob = make_user("alice"), make_user("bob")
    shared = create_workspace("Shared", owner=bob)
    Membership.objects.create(workspace=shared, user=alice, role="viewer")
    session: dict = {}
    workspaces.choose(request_for(alice, session), shared)
    with django_assert_num_queries(1):
        context = page_context(request_for(alice, session))
    assert context["workspace"] == shared and context["workspace_role"] == "viewer"
    assert "team.edit" not in context["workspace_can"] and "run.view" in context["workspace_can"]
    names = [w.name for w, _ in context["my_workspaces"]]
    assert names == sorted(names) and "Shared" in names and len(names) == 2
    # Removed from it: the pages fall back to the personal workspace, as ``current`` does.
    Membership.objects.filter(workspace=shared, user=alice).delete()
    alice = type(alice).objects.get(pk=alice.pk)  # a new request: no memo
    context = page_context(request_for(alice, session))
    assert context["workspace"] == personal_workspace(alice)
    assert context["workspace_role"] == "owner"
