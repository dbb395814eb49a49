"""The agent's model picker: each model with its provider, its price per 1M tokens (marked when
it comes from the catalogue) and what it can do; the fallback chain chosen from the same models,
in order, saved with the team."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from teams.models import ModelConfig
from tests.factories import make_team

from .canvas import node, open_builder, save
from .conftest import save_doc_screenshot

pytestmark = pytest.mark.browser


def agent_team(alice) -> int:
    writer = {"kind": "agent", "id": "writer", "name": "Writer", "model": "offline"}
    spec = {"pattern": "supervisor", "entry": "writer", "nodes": [writer], "edges": []}
    return make_team(alice, spec).pk


def test_the_picker_shows_price_and_capabilities_and_saves_a_fallback_chain(
    page: Page, alice, alice_client: Client
):
    ModelConfig.objects.create(owner=alice, name="sonnet", provider="anthropic",
                               model="claude-sonnet-4-5")  # fmt: skip
    ModelConfig.objects.create(owner=alice, name="old", provider="openai", model="gpt-3.5-turbo")
    ModelConfig.objects.create(owner=alice, name="flash", provider="gemini",
                               model="gemini-2.5-flash")  # fmt: skip
    team_id = agent_team(alice)
    open_builder(page, team_id)
    node(page, "writer").click()

    # Choosing a model shows its provider, its price and what it can do.
    picker = page.get_by_test_id("field-model")
    expect(
        picker.locator("option", has_text="sonnet · anthropic: claude-sonnet-4-5")
    ).to_have_count(1)
    picker.select_option("sonnet")
    details = page.get_by_test_id("model-details")
    expect(details).to_contain_text("anthropic: claude-sonnet-4-5")
    expect(details).to_contain_text("$3.00 in / $15.00 out per 1M tokens (catalogue)")
    expect(details.locator(".cap-yes")).to_have_text(["✓ tools", "✓ structured output", "✓ vision"])
    picker.select_option("old")
    expect(details.locator(".cap-no")).to_contain_text(["✗ structured output"])

    # The chain: flash, then sonnet; then sonnet moved first.
    picker.select_option("sonnet")
    chain = page.get_by_test_id("fallback-models")
    expect(chain.get_by_test_id("fallback-choice").locator("option")).to_have_count(3)  # not sonnet
    chain.get_by_test_id("fallback-choice").select_option("flash")
    chain.get_by_test_id("fallback-add").click()
    chain.get_by_test_id("fallback-choice").select_option("old")
    chain.get_by_test_id("fallback-add").click()
    expect(chain.get_by_test_id("fallback-model")).to_have_count(2)
    chain.get_by_role("button", name="Move old earlier").click()
    expect(chain.get_by_test_id("fallback-model").first).to_contain_text("old")
    expect(chain.get_by_test_id("fallback-model").first).to_contain_text("(catalogue)")
    save_doc_screenshot(page, "builder-model-picker")
    save(page)

    saved = alice_client.get(f"/api/teams/{team_id}").json()["spec"]["nodes"][0]
    assert (saved["model"], saved["fallback_models"]) == ("sonnet", ["old", "flash"])
    chain.get_by_role("button", name="Remove old").click()
    chain.get_by_role("button", name="Remove flash").click()
    expect(chain.get_by_test_id("fallback-model")).to_have_count(0)
    version = alice_client.get(f"/api/teams/{team_id}").json()["version"]
    page.get_by_role("button", name="Save a new version (Ctrl+S)").click()
    expect(page.get_by_test_id("status")).to_contain_text(f"Saved version {version + 1}")
    saved = alice_client.get(f"/api/teams/{team_id}").json()["spec"]["nodes"][0]
    assert saved.get("fallback_models", []) == []


def test_a_model_that_cannot_call_tools_is_warned_about_on_the_node(
    page: Page, alice, alice_client: Client
):
    ModelConfig.objects.create(owner=alice, name="old", provider="openai", model="gpt-3.5-turbo")
    team_id = agent_team(alice)
    open_builder(page, team_id)
    node(page, "writer").click()
    page.get_by_test_id("field-model").select_option("old")
    page.get_by_test_id("field-output-schema").fill('{"type": "object"}')

    problem = page.locator('[data-testid=problem][data-code="model_without_structured_output"]')
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text("cannot be held to one")
    expect(page.get_by_test_id("node-problems-writer")).to_be_visible()
