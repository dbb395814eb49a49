"""In a real Chromium, on a real run: the agent's first model answers 503 (the local scripted
OpenAI server, both models on the operator credential ``test-server``), the second answers.
The run page says which model failed and why, on the feed and the timeline, and names the
model that answered the turn."""

import asyncio
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from teams.models import ModelConfig
from tests.factories import make_team
from tests.runs.helpers import start, wait_for_status
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = pytest.mark.browser


@pytest.fixture
def model_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedOpenAIServer]:
    """The scripted server on a loop of its own: Playwright's sync API holds this thread's."""
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    server, loop = ScriptedOpenAIServer(), asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="model-server", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(timeout=10)
    yield server
    asyncio.run_coroutine_threadsafe(server.stop(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def model_config(owner: Any, name: str, model: str, base_url: str) -> None:
    ModelConfig.objects.create(owner=owner, name=name, provider="openai", model=model,
                               base_url=base_url, credential="test-server")  # fmt: skip


@pytest.mark.parametrize("viewport", [(1280, 720), (390, 844)], ids=["desktop", "phone"])
def test_a_model_fallback_shows_why_and_which_model_answered(
    page: Page, alice, alice_client, model_server: ScriptedOpenAIServer, viewport, request
) -> None:
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    model_server.on(lambda r: r.body.get("model") == "flaky-model", Reply.error(503))
    model_server.on(
        lambda r: r.body.get("model") == "steady-model", Reply.text("Tides turn twice.")
    )
    model_config(alice, "primary", "flaky-model", model_server.base_url)
    model_config(alice, "backup", "steady-model", model_server.base_url)
    writer = {"kind": "agent", "id": "writer", "name": "Writer", "model": "primary",
              "fallback_models": ["backup"], "limits": {"max_retries": 0}}  # fmt: skip
    spec = {"pattern": "supervisor", "entry": "writer", "nodes": [writer], "edges": []}
    team = make_team(alice, spec)

    run_id = start(alice_client, team.pk, "tides")
    run = wait_for_status(run_id, "succeeded", "failed")
    assert run.status == "succeeded", run.failure_reason
    page.goto(f"/runs/{run_id}/")

    note = page.locator(".feed-note", has_text="Model fallback")
    expect(note).to_contain_text("Model fallback: primary → backup: The model primary kept failing")
    expect(note).to_contain_text("HTTP 503")
    expect(note).not_to_contain_text("circuit open")
    answer = page.locator("article.feed-message.role-assistant", has_text="Tides turn twice.")
    expect(answer.get_by_test_id("turn-model")).to_have_text("backup")
    # On the timeline (grouped with the turn's other markers on a narrow screen).
    timeline = page.get_by_role("group", name="Timeline")
    marker = timeline.get_by_role("button", name=re.compile(r"model primary → backup: .*HTTP 503"))
    expect(marker).to_have_count(1)
    assert [r.body["model"] for r in model_server.log] == ["flaky-model", "steady-model"]
    page.screenshot(
        path=f"test-results/run-model-fallback-{request.node.callspec.id}.png", full_page=True
    )
