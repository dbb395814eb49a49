"""A new person's first five minutes, in Chromium: a workspace with no teams opens on the start
page (templates with a picture of each graph, the three patterns, connect a model with a
test-connection button, a new team that opens the builder); the team and run lists then say
what each run was asked and why it failed. With SHOTS_DIR set, the pages are also saved at
1280x720 and 390x844; with DOCS_SCREENSHOTS=1 the start page goes to docs/screenshots."""

import os
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from teams.models import ModelConfig, Secret
from tests.axe import axe_violations
from tests.browser import LiveServer, log_in
from tests.factories import install_templates, make_run_of, make_team, supervisor_spec
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
KEY = "sk-proj-first-five-minutes-0123456789"


def shoot(page: Page, name: str, docs: bool = False) -> None:
    for width, height, tag in [(1280, 720, ""), (390, 844, "-phone")]:
        page.set_viewport_size({"width": width, "height": height})
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, f"the {name} page is {scroll}px wide at {width}px"
        if folder := os.environ.get("SHOTS_DIR"):
            page.screenshot(path=f"{folder}/{name}{tag}.png", full_page=True)
        if docs and os.environ.get("DOCS_SCREENSHOTS"):
            page.screenshot(path=DOCS / f"{name}{tag}.png")
    page.set_viewport_size({"width": 1280, "height": 720})


def test_the_start_page_leads_to_a_template_a_model_and_a_team(
    page: Page,
    alice: Any,
    asgi_server: LiveServer,
    model_server: ScriptedOpenAIServer,
    settings: Any,
) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = []
    model_server.on(lambda r: True, Reply.text("OK"))
    install_templates()
    log_in(page, alice, asgi_server)

    # No team yet: "/" is the start page, with four templates, each with its graph drawn.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/start/$"))
    expect(page.get_by_role("heading", name="Start here")).to_be_visible()
    cards = page.locator(".start-templates > li")
    expect(cards).to_have_count(4)
    for i in range(4):
        picture = cards.nth(i).locator("svg.graph-preview")
        expect(picture).to_be_visible()
        assert picture.locator("rect").count() >= 2  # nodes, not an empty box
    for pattern in ("supervisor", "pipeline", "swarm"):
        expect(page.get_by_role("img", name=f"A {pattern} team")).to_be_visible()
    assert axe_violations(page) == []
    shoot(page, "start", docs=True)

    # Connect a model: OpenAI, a model name, the key. It is kept as a secret for its host.
    form = page.locator("#connect-form")
    form.get_by_label("Provider").select_option("openai")
    form.get_by_label("Model", exact=True).fill("gpt-4.1-mini")
    form.get_by_label("Name in your teams").fill("gpt")
    form.get_by_label("API key").fill(KEY)
    form.get_by_role("button", name="Connect").click()
    expect(page.get_by_text("Model “gpt” connected.")).to_be_visible()
    assert Secret.objects.get().hosts == ["api.openai.com"]
    assert KEY not in page.content()

    # Test connection: one call; with no network here, it says plainly why it failed.
    page.get_by_role("button", name="Test the connection of gpt").click()
    result = page.get_by_test_id("test-result-gpt")
    expect(result).not_to_have_text(re.compile(r"^$|Calling"), timeout=30_000)
    expect(result).to_have_class("error")
    assert KEY not in result.inner_text()

    # A model server on this machine's loopback is refused while the operator allows no
    # private address, and answers once they do.
    ModelConfig.objects.create(
        owner=alice, workspace=ModelConfig(owner=alice).place(), name="local",
        provider="openai", model="llama3", base_url=model_server.base_url,
    )  # fmt: skip
    page.reload()
    test_local = page.get_by_role("button", name="Test the connection of local")
    test_local.click()
    expect(page.get_by_test_id("test-result-local")).to_contain_text("loopback", timeout=30_000)
    assert model_server.log == []
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    test_local.click()
    expect(page.get_by_test_id("test-result-local")).to_contain_text(
        re.compile(r"Connected: answered in \d+ ms"), timeout=30_000
    )
    assert len(model_server.log) == 1
    shoot(page, "start-connected")

    # Build your own: the new team opens in the builder.
    page.get_by_label("Name", exact=True).fill("My first team")
    page.locator("#start-team-pattern").select_option("pipeline")
    page.get_by_role("button", name="Create and open the builder").click()
    expect(page).to_have_url(re.compile(r"/teams/\d+/builder/$"))
    expect(page.get_by_role("heading", name="My first team")).to_be_visible()


def test_the_lists_show_each_runs_input_and_why_it_failed(
    page: Page, alice: Any, asgi_server: LiveServer
) -> None:
    log_in(page, alice, asgi_server)
    team = make_team(alice, supervisor_spec(name="Review desk"))
    make_team(alice, supervisor_spec(name="Quiet desk"))
    make_run_of(team, status="succeeded", input={"task": "Summarise the quarterly numbers"})
    make_run_of(
        team, status="failed", input={"task": "<img src=x onerror=alert(1)> check the diff " * 4},
        failure_reason="The model gpt cannot be used: its secret may only be sent to api.openai.com.",
    )  # fmt: skip

    page.goto("/teams/")
    row = page.get_by_role("row").filter(has_text="Review desk")
    expect(row.get_by_role("link", name="Run Review desk")).to_be_visible()
    expect(row.get_by_role("link", name="Open Review desk in the builder")).to_be_visible()
    expect(row.get_by_test_id("last-run")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(row.get_by_test_id("last-run")).to_contain_text("may only be sent to api.openai.com")
    expect(page.get_by_role("row").filter(has_text="Quiet desk")).to_contain_text("Not run yet")
    assert page.locator("img[src=x]").count() == 0  # shown as text, never as markup
    shoot(page, "teams")

    page.goto("/runs/")
    expect(page.get_by_test_id("failure-reason")).to_contain_text("may only be sent to")
    previews = page.get_by_test_id("input-preview")
    expect(previews.first).to_contain_text("<img src=x onerror=alert(1)>")
    expect(previews.nth(1)).to_have_text("Summarise the quarterly numbers")
    assert page.locator("img[src=x]").count() == 0
    assert axe_violations(page) == []
    shoot(page, "runs-list")
