from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from tests.conftest import CHROMIUM
from tests.factories import make_user

from .live_server import LiveServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


@pytest.fixture
def alice(db: None) -> Any:
    return make_user("alice")


@pytest.fixture
def bob(db: None) -> Any:
    return make_user("bob")


@pytest.fixture
def alice_client(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


# --- browser tests --------------------------------------------------------------------------

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def asgi_server() -> Iterator[LiveServer]:
    server = LiveServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop open on the test's thread, which Django takes
    # for async code and refuses the ORM in; the test's own ORM calls are plain sync code.
    mp = pytest.MonkeyPatch()
    mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
    mp.undo()


@pytest.fixture
def page(
    request: pytest.FixtureRequest,
    transactional_db: None,
    asgi_server: LiveServer,
    browser: Browser,
) -> Iterator[Page]:
    """A 1280x720 page logged in as alice; a screenshot lands in test-results/ on failure."""
    user = make_user("alice")
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=asgi_server.url)
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": asgi_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.user = user  # type: ignore[attr-defined]
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{request.node.name}.png", full_page=True)
    context.close()
