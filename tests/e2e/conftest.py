"""End-to-end browser tests start as a person who has not logged in yet (see tests/browser.py
for the shared fixtures)."""

import pytest
from playwright.sync_api import Page


@pytest.fixture
def page(anonymous_page: Page) -> Page:
    return anonymous_page
