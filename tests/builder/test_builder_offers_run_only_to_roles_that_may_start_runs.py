"""The builder's Run button is offered only to roles that may start runs: a viewer (whom the
server refuses) sees it off, with the sentence saying why, on a desktop and in a phone's menu; a
runner, who may not change the team, still runs it."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser import log_in
from tests.factories import make_team, make_user, minimal_spec
from workspaces.models import Membership

from .canvas import open_builder

pytestmark = pytest.mark.browser

WHY = "Starting, forking and replaying runs in {} needs the owner, admin, editor or runner role; you are viewer."


def member(team, username: str, role: str):
    user = make_user(username)
    Membership.objects.create(workspace=team.workspace, user=user, role=role)
    return user


def test_a_viewer_sees_run_off_and_why(anonymous_page: Page, alice, asgi_server) -> None:
    team = make_team(alice, minimal_spec(name="Help desk"))
    log_in(anonymous_page, member(team, "vic", "viewer"), asgi_server)
    page = anonymous_page
    open_builder(page, team.pk)
    why = WHY.format(team.workspace.name)

    run = page.get_by_role("button", name="Run the team")
    expect(run).to_be_disabled()
    expect(run).to_have_accessible_description(f"No runs: {why}")
    expect(page.get_by_test_id("cannot-run")).to_be_visible()
    expect(page.get_by_test_id("run-dialog")).to_be_hidden()

    # On a phone the menu's item is off too, the reason under it.
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("button", name="Menu").click()
    in_menu = page.get_by_role("list", name="Builder menu")
    expect(in_menu.get_by_role("button", name="Run the team")).to_be_disabled()
    expect(in_menu.get_by_test_id("cannot-run")).to_have_text(why)


def test_a_runner_who_may_not_edit_still_runs(anonymous_page: Page, alice, asgi_server) -> None:
    team = make_team(alice, minimal_spec(name="Help desk"))
    log_in(anonymous_page, member(team, "rita", "runner"), asgi_server)
    open_builder(anonymous_page, team.pk)
    expect(anonymous_page.get_by_test_id("read-only")).to_contain_text("you are runner")
    expect(anonymous_page.get_by_test_id("cannot-run")).to_have_count(0)
    anonymous_page.get_by_role("button", name="Run the team").click()
    expect(anonymous_page.get_by_test_id("run-dialog")).to_be_visible()
