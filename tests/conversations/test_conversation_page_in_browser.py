"""In a real Chromium: a person starts a conversation from the team's conversations page,
sends messages, and sees each answer arrive token by token over the run's websocket, then
settle with links to its run's timeline and audit trail; what a model wrote is shown as text.
With SHOTS_DIR set, the page is also saved at 1280x720 and 390x844."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.factories import make_model_config, make_team, minimal_spec
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = [pytest.mark.browser]

EVIL = '<img src=x onerror="window.pwned = true">'
ANSWER = "The ledger balances: every debit has its credit, " + EVIL

# Records every text the answer being written showed, as the page draws it.
WATCH_STREAM = """() => {
  window.streamed = [];
  new MutationObserver(() => {
    for (const node of document.querySelectorAll(".chat-text.streaming")) {
      if (node.textContent) window.streamed.push(node.textContent);
    }
  }).observe(document.getElementById("conversation-messages"),
             {childList: true, subtree: true, characterData: true});
}"""


def shot(page: Page, name: str) -> None:
    """With SHOTS_DIR set, the page is also saved there (to look at, not to assert on)."""
    if folder := os.environ.get("SHOTS_DIR"):
        page.screenshot(path=Path(folder) / name, full_page=True)


def test_a_conversation_streams_its_answers_in(
    page: Page, model_server: ScriptedOpenAIServer
) -> None:
    # The model takes a moment before it writes, slowly, so the page watches tokens come.
    model_server.on(lambda r: True, Reply.text(ANSWER, delay_s=2, chunk_chars=5, gap_s=0.15))
    make_model_config(page.user, model_server.base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    team = make_team(page.user, minimal_spec(name="Ledger desk", nodes=[lead]))

    page.goto(f"/teams/{team.id}/conversations/")
    page.get_by_role("button", name="New conversation").click()
    expect(page.get_by_role("heading", name="New conversation")).to_be_visible()
    page.evaluate(WATCH_STREAM)

    page.get_by_label("Your message").fill("Does the ledger balance?")
    page.get_by_role("button", name="Send").click()

    answer = page.locator(".chat-message.assistant").last
    expect(answer.locator(".chat-text")).to_have_text(ANSWER, timeout=60_000)
    expect(answer.locator(".chat-text.streaming")).to_have_count(0)
    streamed = page.evaluate("window.streamed")
    assert any(0 < len(text) < len(ANSWER) for text in streamed), streamed  # token by token
    assert page.evaluate("window.pwned") is None
    timeline = answer.get_by_role("link", name="Timeline").get_attribute("href")
    audit = answer.get_by_role("link", name="Audit trail").get_attribute("href")
    assert timeline and timeline.startswith("/runs/") and audit == f"{timeline}audit/"

    # The second message: the model now sees the first exchange.
    page.get_by_label("Your message").fill("And the invoices?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".chat-message")).to_have_count(4)
    expect(page.locator(".chat-message.assistant .chat-text").last).to_have_text(
        ANSWER, timeout=60_000
    )
    expect(page.locator(".chat-links").last).to_contain_text("Succeeded", timeout=60_000)
    expect(page.get_by_role("heading", name="Does the ledger balance?")).to_be_visible()
    second = model_server.log[-1]
    assert [m["content"] for m in second.messages if m["role"] == "user"] == [
        "Does the ledger balance?",
        "And the invoices?",
    ]
    shot(page, "conversation-1280x720.png")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator(".chat-message")).to_have_count(4)
    shot(page, "conversation-390x844.png")

    # The team's conversations list leads back to it.
    page.goto(f"/teams/{team.id}/conversations/")
    expect(page.get_by_role("link", name="Does the ledger balance?")).to_be_visible()
    shot(page, "team-conversations-390x844.png")


def test_an_empty_message_is_refused_in_place(page: Page) -> None:
    team = make_team(page.user, minimal_spec())
    page.goto(f"/teams/{team.id}/conversations/")
    page.get_by_role("button", name="New conversation").click()

    page.get_by_label("Your message").fill("   ")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("alert")).to_have_text("Write a message: it is empty.")
    expect(page.locator(".chat-message")).to_have_count(0)
