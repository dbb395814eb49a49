"""A person in a real Chromium opens the template gallery, reads how a template works and
uses it: the new team opens in the builder, with the template's agents."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, install_templates, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_person_makes_a_team_from_a_template(page: Page) -> None:
    install_templates()
    make_user("frank")
    page.goto("/login/?next=/templates/")
    page.get_by_label("Username").fill("frank")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Start from a template")).to_be_visible()
    card = page.locator("#template-content-production")
    card.get_by_text("How it works and how to adapt it").click()
    expect(card.get_by_text("seo_audit.min_score: 85")).to_be_visible()
    card.get_by_role("button", name="Use this template: Content production").click()

    # The builder opens the new team, with the template's agents on its canvas.
    expect(page).to_have_url(re.compile(r"/teams/\d+/builder/$"))
    expect(page.locator(".react-flow__pane")).to_be_visible()
    expect(page.locator(".react-flow__node").get_by_text("SEO review", exact=True)).to_be_visible()
