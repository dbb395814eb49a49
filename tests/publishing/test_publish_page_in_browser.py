"""In Chromium: the team's Publish page publishes a version under a slug, issues a key shown
once, which then starts a run at /p/<slug>/runs, and revokes it. A viewer sees the
publications but no forms, and why. With SHOTS_DIR set, the page is saved at 1280x720 and
390x844."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from publishing.models import PublicationKey
from tests.browser import fits_the_width, log_in, shoot
from tests.factories import make_user
from workspaces.models import Membership

from .helpers import make_asking_team

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def test_publish_issue_a_key_use_it_and_revoke_it(page: Page, asgi_server: Any) -> None:
    team = make_asking_team(page.user)  # type: ignore[attr-defined]
    page.goto(f"/teams/{team.id}/")
    page.get_by_role("link", name="Publish").click()
    expect(page.get_by_role("heading", name="Publish Help desk")).to_be_visible()

    page.get_by_label("Slug").fill("help-desk")
    page.get_by_label("Calls per key").fill("30/minute")
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Version 1 is published at /p/help-desk/.")).to_be_visible()
    expect(page.get_by_role("heading", name="/p/help-desk/ live")).to_be_visible()

    page.get_by_label("Key name").fill("crm")
    page.get_by_role("button", name="Issue key").click()
    key = page.locator("#new-key").inner_text()
    assert key.startswith("pub_")
    expect(page.get_by_role("cell", name=key[:10] + "…")).to_be_visible()
    shoot(page, "publish-page")
    # On a phone the keys are labelled cards, nothing cut sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert fits_the_width(page, "table.keys")
    expect(page.locator("table.keys td[data-label='Starts with']")).to_contain_text(key[:10])
    page.set_viewport_size({"width": 1280, "height": 720})

    # The key works at once...
    started = httpx.post(
        f"{asgi_server.url}/p/help-desk/runs",
        json={"input": {"question": "Hello?"}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert started.status_code == 201, started.text

    # ...and not after it is revoked; the page never shows it again.
    page.goto(f"/teams/{team.id}/publish/")
    expect(page.locator("#new-key")).to_have_count(0)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke crm").click()
    expect(page.get_by_text("The key crm is revoked.")).to_be_visible()
    assert PublicationKey.objects.get().revoked_at is not None
    refused = httpx.post(
        f"{asgi_server.url}/p/help-desk/runs",
        json={"input": {"question": "Hello?"}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    )
    assert refused.status_code == 401


def test_a_viewer_sees_the_publications_but_no_forms(
    anonymous_page: Page, asgi_server: Any
) -> None:
    from publishing.actions import do_publish

    alice, vic = make_user("alice"), make_user("vic")
    team = make_asking_team(alice)
    Membership.objects.create(workspace=team.workspace, user=vic, role="viewer")
    do_publish(team, 1, "help-desk", "", alice)
    log_in(anonymous_page, vic, asgi_server)

    anonymous_page.goto(f"/teams/{team.id}/publish/")
    expect(anonymous_page.get_by_role("heading", name="/p/help-desk/ live")).to_be_visible()
    expect(anonymous_page.get_by_test_id("why-not")).to_contain_text("needs the")
    expect(anonymous_page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
    expect(anonymous_page.get_by_role("button", name="Issue key")).to_have_count(0)
