"""Shared fixtures. Tests that need PostgreSQL, Redis or Chromium are skipped with the reason
when those are not configured; CI sets CI_REQUIRE_SERVICES=1, which turns such a skip into a
failure, so the production stack is always tested there."""

import os
import shutil

import pytest
from django.contrib.auth.models import User
from django.test import Client

CHROMIUM = "/usr/bin/chromium"

# The browser fixtures (asgi_server, browser, page, ...) for every test package.
pytest_plugins = ["tests.browser"]


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI_REQUIRE_SERVICES"):
        pytest.fail(f"CI requires this test to run, but: {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("postgres"):
        require(
            os.environ.get("DATABASE_URL", "").startswith("postgres"),
            "needs PostgreSQL: set DATABASE_URL=postgres://...",
        )
    if item.get_closest_marker("redis"):
        require(bool(os.environ.get("REDIS_URL")), "needs Redis: set REDIS_URL=redis://...")
    if item.get_closest_marker("browser"):
        require(
            os.path.exists(CHROMIUM) or bool(shutil.which("chromium")),
            "needs Debian's chromium package at /usr/bin/chromium",
        )


@pytest.fixture
async def openai_server():
    """A scripted OpenAI-compatible server on 127.0.0.1 (see tests/support/openai_server.py)."""
    from tests.support.openai_server import ScriptedOpenAIServer

    server = ScriptedOpenAIServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def anthropic_server():
    """A scripted server speaking Anthropic's Messages API (tests/support/anthropic_server.py)."""
    from tests.support.anthropic_server import ScriptedAnthropicServer

    server = ScriptedAnthropicServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def gemini_server():
    """A scripted server speaking the Gemini API (tests/support/gemini_server.py)."""
    from tests.support.gemini_server import ScriptedGeminiServer

    server = ScriptedGeminiServer()
    await server.start()
    yield server
    await server.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Playwright's sync API keeps an event loop running on the main thread while a browser is
    # open, and asyncio tests after it fail with "cannot be called from a running event
    # loop". Browser tests therefore run last, together (a stable sort keeps their order).
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture
def alice(db: None) -> User:
    from tests.factories import make_user

    return make_user("alice")


@pytest.fixture
def bob(db: None) -> User:
    from tests.factories import make_user

    return make_user("bob")


@pytest.fixture
def alice_client(alice: User) -> Client:
    """A test client logged in as alice."""
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def dispatched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Runs are queued but never executed: the ids handed to the executor, in order, whether
    one at a time (``dispatch``) or in batches (``dispatch_many``)."""
    from runs import execution

    ids: list[str] = []
    monkeypatch.setattr(execution, "dispatch", ids.append)
    monkeypatch.setattr(execution, "dispatch_many", ids.extend)
    return ids


@pytest.fixture(autouse=True)
def fresh_quotas() -> None:
    """Every test starts with no rate-limit counts, open circuits or model paces (they live in
    memory or Redis, outside the test's transaction)."""
    from orchestration_site import quotas
    from runs import circuits, ratelimits

    quotas.reset()
    # Model breakers and limiters are keyed by credential (``secret:<id>``): in Redis they
    # outlive the test, and a later test whose secret gets the same id would find the circuit
    # an earlier one opened and wait out its cool-down.
    circuits.reset()
    ratelimits.reset()
