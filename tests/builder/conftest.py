"""Browser fixtures for the builder: a real Chromium (Debian's) on a live server, logged in
as alice, with a screenshot in test-results/ when a test fails."""

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import CHROMIUM
from tests.factories import make_user

# Playwright's sync API runs an event loop on this thread; the ORM calls the tests make
# between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

RESULTS = Path(__file__).resolve().parents[2] / "test-results"
DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def alice(transactional_db: None) -> User:
    return make_user("alice")


@pytest.fixture
def alice_api(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def site(live_server: Any) -> Any:
    """The server the browser talks to: WSGI is enough for the builder itself; a test that
    needs websockets overrides this with an ASGI server."""
    return live_server


@pytest.fixture
def page(
    request: pytest.FixtureRequest, browser: Browser, site: Any, alice_api: Client
) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 720}, base_url=site.url, accept_downloads=True
    )
    # The session of alice_api, so the browser is alice without going through the login form.
    session = alice_api.cookies["sessionid"].value
    context.add_cookies([{"name": "sessionid", "value": session, "url": site.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def save_doc_screenshot(page: Page, name: str) -> None:
    """Refresh the screenshots in docs/ when asked to (SAVE_DOC_SCREENSHOTS=1)."""
    if os.environ.get("SAVE_DOC_SCREENSHOTS"):
        DOC_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOC_SCREENSHOTS / f"{name}.png"))
