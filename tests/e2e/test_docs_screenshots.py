"""The screenshots in docs/ are taken here, by a real Chromium on the real pages, so they show
what the product looks like now (refresh them with DOCS_SCREENSHOTS=1). Each step checks what a
person would see before shooting."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, install_templates, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
# The docs' copies are rewritten only when asked (DOCS_SCREENSHOTS=1), so an ordinary test run
# leaves the work tree as it was; otherwise the shots go where failure screenshots go.
IMAGES = ROOT / (
    "docs/images" if os.environ.get("DOCS_SCREENSHOTS") else "test-results/docs-images"
)


def shoot(page: Page, name: str) -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=IMAGES / f"{name}.png", full_page=True)
    assert (IMAGES / f"{name}.png").stat().st_size > 10_000  # a page, not a blank


def test_the_pages_of_building_a_team(page: Page) -> None:
    install_templates()
    make_user("dana")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto("/login/?next=/templates/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The gallery: where most teams start.
    expect(page.get_by_role("heading", name="Start from a template")).to_be_visible()
    shoot(page, "template-gallery")

    # A team made from a template opens in the builder; its read-only page shows its agents,
    # edges and problems on one page.
    page.locator("#template-content-production").get_by_role(
        "button", name="Use this template: Content production"
    ).click()
    expect(page).to_have_url(re.compile(r"/teams/\d+/builder/$"))
    page.goto(page.url.removesuffix("builder/"))
    expect(page.get_by_text("No problems found.")).to_be_visible()
    shoot(page, "team-detail")

    # The team list, and API tokens for scripts.
    page.goto("/teams/")
    expect(page.get_by_text("Content production")).to_be_visible()
    shoot(page, "team-list")
    page.goto("/settings/tokens/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    shoot(page, "api-tokens")
