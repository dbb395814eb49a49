"""In a real Chromium: the builder's chat panel talks to the unsaved draft on the canvas; the
answer streams into the panel token by token, and the next message carries the first."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from conversations.models import Conversation
from tests.builder.canvas import open_builder
from tests.factories import make_model_config, make_team, minimal_spec
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = [pytest.mark.browser]

ANSWER = "Invoices are paid within thirty days of receipt."

WATCH_STREAM = """() => {
  window.streamed = [];
  new MutationObserver(() => {
    const words = document.querySelectorAll('[data-testid="chat-answer"]');
    const last = words[words.length - 1];
    if (last && last.textContent) window.streamed.push(last.textContent);
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def shot(page: Page, name: str) -> None:
    """With SHOTS_DIR set, the page is also saved there (to look at, not to assert on)."""
    if folder := os.environ.get("SHOTS_DIR"):
        page.screenshot(path=Path(folder) / name)


def test_the_chat_panel_talks_to_the_unsaved_draft(
    page: Page, model_server: ScriptedOpenAIServer
) -> None:
    model_server.on(lambda r: True, Reply.text(ANSWER, delay_s=2, chunk_chars=5, gap_s=0.15))
    make_model_config(page.user, model_server.base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    team = make_team(page.user, minimal_spec(name="Billing desk", nodes=[lead]))
    open_builder(page, team.id)

    # An edit that is not saved: the conversation is with the draft as it is on the canvas.
    page.get_by_test_id("field-team-name").fill("Billing desk, draft")
    panel = page.get_by_test_id("chat-panel")
    page.evaluate(WATCH_STREAM)
    panel.get_by_test_id("chat-input").fill("When are invoices paid?")
    panel.get_by_test_id("chat-send").click()

    answer = panel.get_by_test_id("chat-answer").last
    expect(answer).to_have_text(ANSWER, timeout=60_000)
    expect(panel.get_by_role("link", name="succeeded: its run")).to_be_visible(timeout=60_000)
    streamed = page.evaluate("window.streamed")
    assert any(0 < len(text) < len(ANSWER) for text in streamed), streamed
    conversation = Conversation.objects.get()
    assert conversation.team_version is None and conversation.draft["name"] == "Billing desk, draft"

    panel.get_by_test_id("chat-input").fill("And refunds?")
    panel.get_by_test_id("chat-send").click()
    expect(panel.get_by_test_id("chat-answer")).to_have_count(2)
    expect(panel.get_by_role("link", name="succeeded: its run")).to_have_count(2, timeout=60_000)
    users = [m["content"] for m in model_server.log[-1].messages if m["role"] == "user"]
    assert users == ["When are invoices paid?", "And refunds?"]
    shot(page, "builder-chat-1280x720.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "builder-chat-390x844.png")
