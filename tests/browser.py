"""Browser test infrastructure, loaded by tests/conftest.py for every test package: the real
site served by daphne on a thread (so websockets work), a Celery worker when the stack
executes runs on Celery, Debian's Chromium through Playwright, and a screenshot in
test-results/ when a browser test fails.

pytest-django's `live_server` speaks WSGI only, and channels' ChannelsLiveServerTestCase runs
daphne in another process, where the embedded default's in-memory channel layer and database
are out of reach. On a thread, the test and the server share both, so the same tests run on
the embedded default and on PostgreSQL + Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import CHROMIUM

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from playwright.sync_api import Browser, Page

    from runs.models import Run

RESULTS = Path(__file__).resolve().parents[1] / "test-results"


class LiveServer:
    """daphne on a thread serving the site's ASGI application; Twisted's reactor runs once per
    process, so there is one per test session."""

    def __init__(self) -> None:
        from daphne.server import Server
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from orchestration_site.asgi import application

        self.server = Server(
            application=ASGIStaticFilesHandler(application),
            endpoints=["tcp:port=0:interface=127.0.0.1"],
            signal_handlers=False,
        )
        self.thread = threading.Thread(target=self.server.run, name="daphne", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.listening_addresses:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("daphne did not start listening")
            time.sleep(0.05)
        return self

    @property
    def url(self) -> str:
        host, port = self.server.listening_addresses[0]
        return f"http://{host}:{port}"

    def __str__(self) -> str:
        return self.url

    def stop(self) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(reactor.stop)
        self.thread.join(timeout=10)

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on the server's event loop (the in-memory layer lives there)."""
        from twisted.internet import reactor

        loop: asyncio.AbstractEventLoop = reactor._asyncioEventloop
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=10)

    def publish(self, run: Run, messages: list[dict[str, Any]]) -> None:
        """Send channel-layer messages (runs.broadcast's `run.*` messages) to everyone watching
        ``run``, as the runs sink does."""
        from channels.layers import get_channel_layer

        async def send() -> None:
            for message in messages:
                await get_channel_layer().group_send(run.group_name, message)

        self.call(send())


@contextlib.contextmanager
def celery_worker() -> Iterator[None]:
    """A real Celery worker on threads of this process, on the stack's broker, when the stack
    executes runs on Celery (PostgreSQL + Redis); the embedded default executes them on the
    web process's own run loop and needs none."""
    if settings.RUN_EXECUTOR != "celery":
        yield
        return
    from celery.contrib.testing.worker import start_worker

    from orchestration_site.celery import app

    with start_worker(
        app, pool="threads", concurrency=8, perform_ping_check=False, shutdown_timeout=10
    ):
        yield


def close_other_db_connections() -> None:
    """The server's, the worker's and the run loop's threads hold database connections of
    their own; close them before the test database is dropped."""
    from django.db import connection

    from runs.shell.loop import close_db_connections

    close_db_connections()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """On the embedded default, a test database in a file rather than in memory: a run writes
    its events on the run loop's thread while the server's threads read them, and SQLite's
    shared-cache memory database locks whole tables without waiting ("database table is
    locked"), where a file in WAL mode (see settings) lets readers and the writer overlap."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        database.setdefault("TEST", {})["NAME"] = str(path)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """The site, websockets included, and whatever executes its runs."""
    server = LiveServer().start()
    with celery_worker():
        yield server
    server.stop()
    with django_db_blocker.unblock():
        close_other_db_connections()


class _Chromium:
    """The session's Chromium, launched again if it has gone: a browser that crashes fails
    the test it crashed in, not every browser test after it."""

    def __init__(self, playwright: Any) -> None:
        self._playwright = playwright
        self._browser: Browser | None = None

    def get(self) -> Browser:
        if self._browser is None or not self._browser.is_connected():
            self._browser = self._playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
        return self._browser

    def close(self) -> None:
        if self._browser is not None and self._browser.is_connected():
            self._browser.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[_Chromium]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop open on the test's thread, which Django takes
    # for async code and refuses the ORM in; the test's own ORM calls are plain sync code.
    # That loop also stops pytest-asyncio from running async tests, which is why tests/conftest.py
    # runs the browser tests last.
    mp = pytest.MonkeyPatch()
    mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")
    with sync_playwright() as playwright:
        browser = _Chromium(playwright)
        yield browser
        browser.close()
    mp.undo()


@pytest.fixture
def browser(chromium: _Chromium) -> Browser:
    """The session's Chromium (launched again if an earlier test lost it)."""
    return chromium.get()


@pytest.fixture
def anonymous_page(
    request: pytest.FixtureRequest,
    transactional_db: None,
    asgi_server: LiveServer,
    browser: Browser,
) -> Iterator[Page]:
    """A 1280x720 page on the live site, logged in as nobody; a screenshot lands in
    test-results/ when the test fails."""
    from playwright.sync_api import Error as PlaywrightError

    context = browser.new_context(
        viewport={"width": 1280, "height": 720}, base_url=asgi_server.url, accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    report = getattr(request.node, "report_call", None)
    # A test that closed its page itself (the builder's leave-with-unsaved-changes test) can
    # race Chromium tearing the page down, and a browser that crashed has nothing to show:
    # the test's own failure says what happened either way.
    with contextlib.suppress(PlaywrightError):
        if report is not None and report.failed:
            RESULTS.mkdir(exist_ok=True)
            page.screenshot(path=RESULTS / f"{request.node.name}.png", full_page=True)
        context.close()


def log_in(page: Page, user: User, site: LiveServer) -> None:
    """Give the page ``user``'s session (``page.user``), without going through the login form."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": cookie, "url": site.url}])
    page.user = user  # type: ignore[attr-defined]


def fits_the_width(page: Page, table: str) -> bool:
    """Whether ``table`` and the page fit the viewport's width, with no sideways scroll."""
    return page.evaluate(
        """(sel) => {
          const table = document.querySelector(sel), box = table.closest('.table-scroll');
          const width = document.documentElement.clientWidth;
          return document.documentElement.scrollWidth <= width
            && table.getBoundingClientRect().right <= width && box.scrollWidth <= box.clientWidth;
        }""",
        table,
    )


def shoot(page: Page, name: str) -> None:
    """With SHOTS_DIR set, save the page there at 1280x720 and 390x844 (never elsewhere)."""
    if folder := os.environ.get("SHOTS_DIR"):
        for width, height, tag in [(1280, 720, "desktop"), (390, 844, "phone")]:
            page.set_viewport_size({"width": width, "height": height})
            page.screenshot(path=f"{folder}/{name}-{tag}.png", full_page=True)
        page.set_viewport_size({"width": 1280, "height": 720})


@pytest.fixture
def page(anonymous_page: Page, alice: User, asgi_server: LiveServer) -> Page:
    """``anonymous_page`` logged in as alice (``page.user``)."""
    log_in(anonymous_page, alice, asgi_server)
    return anonymous_page
