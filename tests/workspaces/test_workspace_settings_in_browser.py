"""In Chromium: an admin sets the workspace's retention on its settings page (refused in place
beyond the server's period), and an editor reads it with the reason they cannot change it;
the top bar gives each their role in Acme. With SHOTS_DIR set, the pages are also saved at
1280x720 and 390x844."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser import log_in, shoot

from .helpers import shared_workspace

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_an_admin_sets_the_retention_on_the_settings_page(
    anonymous_page: Page, asgi_server, settings
) -> None:
    settings.RUN_RETENTION_DAYS = 90
    page = anonymous_page
    workspace, users = shared_workspace(admin="ada", editor="ed")
    log_in(page, users["ada"], asgi_server)
    page.goto(f"/workspaces/{workspace.slug}/members/")
    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Settings").click()
    field = page.get_by_label("Keep finished runs for (days)")
    field.fill("120")  # more than the server keeps
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#retention_days-error")).to_contain_text("90 days at most")
    expect(field).to_have_value("120")
    shoot(page, "workspace-settings-refused")
    field.fill("30")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("The settings of Acme are saved.")).to_be_visible()
    expect(field).to_have_value("30")
    # the top bar gives her role in Acme, the page's workspace, not in her current one
    expect(page.locator(".topbar .role-badge")).to_have_text("admin in Acme")
    shoot(page, "workspace-settings")
    # An editor reads it, and is told who changes it.
    log_in(page, users["ed"], asgi_server)
    page.reload()
    expect(page.locator("#workspace-settings-read-only")).to_contain_text("30 days")
    expect(page.get_by_test_id("why-not")).to_contain_text("needs the owner or admin role")
    expect(page.locator(".topbar .role-badge")).to_have_text("editor in Acme")
    shoot(page, "workspace-settings-read-only")
