"""What every browser test needs: a real Chromium page (Debian's, see tests/conftest.py)."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import CHROMIUM


@pytest.fixture
def page(monkeypatch: pytest.MonkeyPatch) -> Iterator[Page]:
    # Playwright's sync API runs an event loop in this thread, which makes Django's async
    # guard refuse the test database's own set-up and flush here; the app under test runs
    # on the live server's threads, untouched by this.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser.new_page()
        browser.close()
