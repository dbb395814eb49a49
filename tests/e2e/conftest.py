"""End-to-end browser tests start as a person who has not logged in yet (see tests/browser.py
for the shared fixtures)."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page

from tests.support.openai_server import ScriptedOpenAIServer


@pytest.fixture
def page(anonymous_page: Page) -> Page:
    return anonymous_page


@pytest.fixture
def model_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedOpenAIServer]:
    """The scripted OpenAI-compatible server on an event loop of its own thread, as the browser
    tests are synchronous; runs reach it with the key in SCRIPTED_KEY (make_model_config)."""
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="model-server", daemon=True)
    thread.start()
    server = ScriptedOpenAIServer()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)
    loop.close()


def until(condition: Callable[[], bool], within_s: float = 30.0) -> None:
    """Wait, polling, until ``condition`` holds; fail after ``within_s``."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {within_s} s")
        time.sleep(0.05)
