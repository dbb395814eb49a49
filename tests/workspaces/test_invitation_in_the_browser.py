"""In Chromium: a logged-out person opens an invitation link, logs in, comes back, joins, and
lands in the workspace; the tokens page shows each token's workspace, role and expiry.
With SHOTS_DIR set, the pages are also saved at 1280x720 and 390x844."""

import pytest
from playwright.sync_api import Page, expect

from teams.models import ApiToken
from tests.browser import log_in, shoot
from tests.factories import PASSWORD, make_user
from workspaces import services

from .helpers import role_of, shared_workspace

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_log_in_from_the_link_then_join(anonymous_page: Page, asgi_server) -> None:
    page = anonymous_page
    workspace, users = shared_workspace(admin="ada")
    _, token = services.invite(workspace, users["ada"], "editor")
    make_user("bob")
    page.goto(f"/invitations/{token}")
    expect(page.get_by_text("ada invites you to the workspace Acme as editor")).to_be_visible()
    shoot(page, "invitation-logged-out")
    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    join = page.get_by_role("button", name="Join Acme as bob")
    expect(join).to_be_visible()
    shoot(page, "invitation-logged-in")
    join.click()
    expect(page.get_by_text("You are now a member of Acme, as editor.")).to_be_visible()
    expect(page.locator("#workspace-switcher")).to_have_value(workspace.slug)  # working in it
    assert role_of(workspace, "bob") == "editor"
    page.goto(f"/invitations/{token}")
    expect(page.get_by_text("This invitation link was used; ask for a new one.")).to_be_visible()
    shoot(page, "invitation-used")


def test_the_tokens_page_makes_a_limited_token(anonymous_page: Page, asgi_server) -> None:
    page = anonymous_page
    workspace, users = shared_workspace(runner="rita")
    log_in(page, users["rita"], asgi_server)
    page.goto("/settings/tokens/")
    page.fill("input[name=name]", "ci")
    page.get_by_role("main").locator("select[name=workspace]").select_option(workspace.slug)
    page.select_option("select[name=role]", "viewer")
    page.fill("input[name=expires_days]", "30")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_contain_text("ato_")
    row = page.get_by_role("row", name="ci")
    expect(row).to_contain_text("Acme")
    expect(row).to_contain_text("viewer")
    expect(row).to_contain_text("never")  # last used
    shoot(page, "tokens")
    assert ApiToken.objects.get().role == "viewer"
