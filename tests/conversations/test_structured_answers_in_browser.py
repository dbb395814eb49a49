"""In a real Chromium: a team whose agent has an output schema answers with JSON, and the
conversation page and the builder's chat panel show its text field and the other fields as
lines, as text (markup the model wrote does not run). With SHOTS_DIR set, both are also saved
at 1280x720 and 390x844."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser import shoot
from tests.builder.canvas import open_builder
from tests.factories import make_model_config, make_team, minimal_spec
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = [pytest.mark.browser]

EVIL = '<img src=x onerror="window.pwned = true">'
REVIEW = {"comment": f"Ship it; the one risk is {EVIL}", "severity": "low", "issues": 1}
SHOWN = f"Ship it; the one risk is {EVIL}\n\nIssues: 1\nSeverity: low"
SCHEMA = {
    "type": "object",
    "properties": {
        "comment": {"type": "string"},
        "severity": {"type": "string"},
        "issues": {"type": "integer"},
    },
    "required": ["comment", "severity", "issues"],
}


def reviewer_team(page: Page, model_server: ScriptedOpenAIServer) -> object:
    model_server.on(lambda r: True, Reply.json(REVIEW))
    make_model_config(page.user, model_server.base_url)
    lead = {
        "kind": "agent",
        "id": "lead",
        "name": "Reviewer",
        "model": "scripted",
        "output_schema": SCHEMA,
    }
    return make_team(page.user, minimal_spec(name="Review desk", nodes=[lead]))


def test_the_conversation_page_shows_the_text_field(
    page: Page, model_server: ScriptedOpenAIServer
) -> None:
    team = reviewer_team(page, model_server)
    page.goto(f"/teams/{team.id}/conversations/")
    page.get_by_role("button", name="New conversation").click()
    page.get_by_label("Your message").fill("Review the release")
    page.get_by_role("button", name="Send").click()
    answer = page.locator(".chat-message.assistant .chat-text").last
    expect(page.locator(".chat-links").last).to_contain_text("Succeeded", timeout=60_000)
    expect(answer).to_have_text(SHOWN)
    assert page.evaluate("window.pwned") is None
    page.reload()  # as the server draws it
    expect(answer).to_have_text(SHOWN)
    shoot(page, "conversation-structured")


def test_the_builder_chat_panel_shows_the_text_field(
    page: Page, model_server: ScriptedOpenAIServer
) -> None:
    team = reviewer_team(page, model_server)
    open_builder(page, team.id)
    panel = page.get_by_test_id("chat-panel")
    panel.get_by_test_id("chat-input").fill("Review the release")
    panel.get_by_test_id("chat-send").click()
    expect(panel.get_by_role("link", name="succeeded: its run")).to_be_visible(timeout=60_000)
    expect(panel.get_by_test_id("chat-answer").last).to_have_text(SHOWN)
    assert page.evaluate("window.pwned") is None
    panel.get_by_test_id("chat-answer").last.scroll_into_view_if_needed()
    shoot(page, "builder-chat-structured")
