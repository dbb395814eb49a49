"""The screenshots in docs/ are taken here, by a real Chromium on the real pages, so they show
what the product looks like now. Each step checks what a person would see before shooting."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, install_templates, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


def shoot(page: Page, name: str) -> None:
    IMAGES.mkdir(exist_ok=True)
    page.screenshot(path=IMAGES / f"{name}.png", full_page=True)
    assert (IMAGES / f"{name}.png").stat().st_size > 10_000  # a page, not a blank


def test_the_pages_of_building_a_team(page: Page, live_server: object) -> None:
    install_templates()
    make_user("dana")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server}/login/?next=/templates/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # The gallery: where most teams start.
    expect(page.get_by_role("heading", name="Start from a template")).to_be_visible()
    shoot(page, "template-gallery")

    # A team made from a template: its agents, edges and problems on one page.
    page.locator("#template-content-production").get_by_role(
        "button", name="Use this template: Content production"
    ).click()
    expect(page.get_by_text("No problems found.")).to_be_visible()
    shoot(page, "team-detail")

    # The team list, and API tokens for scripts.
    page.goto(f"{live_server}/teams/")
    expect(page.get_by_text("Content production")).to_be_visible()
    shoot(page, "team-list")
    page.goto(f"{live_server}/settings/tokens/")
    expect(page.get_by_role("heading", name="API tokens")).to_be_visible()
    shoot(page, "api-tokens")
