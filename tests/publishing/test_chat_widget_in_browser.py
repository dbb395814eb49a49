"""In Chromium: a page of another site (its own local server, so another origin) carries the
widget's script tag pointing at the site; a visitor opens the chat, asks, and reads the
published team's answer (from the scripted model), shown as text and untouched by the page's
CSS. The same page served from an origin the publisher does not list sees the panel refuse.
With SHOTS_DIR set, the page with the widget open is saved at 1280x720 and 390x844."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, expect

from publishing import actions
from publishing.models import PublishedRun
from tests.browser import shoot
from tests.factories import make_model_config, make_team, minimal_spec
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

EVIL = '<img src=x onerror="window.pwned = true">'
ANSWER = "Your parcel left Lyon this morning. " + EVIL

HOST_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Example shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body {{ font-family: Georgia, serif; margin: 2rem; background: #fbf7ef; }}
  p, button, textarea, section {{ color: red !important; font-size: 40px !important; }}
</style></head>
<body><h1>Example shop</h1><p>Boots, coats and scarves.</p>
<script src="{site}/static/js/widget.js" data-publication="shop-help" async></script>
</body></html>"""


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def host_pages(tmp_path: Path, asgi_server: Any) -> Iterator[list[str]]:
    """Two other sites serving the same shop page (each its own origin)."""
    (tmp_path / "index.html").write_text(HOST_PAGE.format(site=asgi_server.url))
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), handler) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_a_visitor_of_a_listed_site_chats_and_another_site_is_refused(
    page: Page, model_server: ScriptedOpenAIServer, host_pages: list[str]
) -> None:
    shop, stranger = host_pages
    model_server.on(lambda r: True, Reply.text(ANSWER))
    user = page.user  # type: ignore[attr-defined]
    make_model_config(user, model_server.base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    team = make_team(user, minimal_spec(name="Shop help", nodes=[lead]))
    actions.do_publish(team, 1, "shop-help", "", user, [shop])

    page.context.clear_cookies()  # the visitor has no session with the site
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))
    page.goto(shop + "/index.html")
    page.get_by_role("button", name="Chat with us").click()
    panel = page.get_by_role("dialog", name="Chat with us")
    expect(panel).to_be_visible()
    panel.get_by_label("Your message").fill("Where is my parcel?")
    panel.get_by_role("button", name="Send").click()

    answer = page.locator("[data-chat-widget] >> .msg.assistant").last
    expect(answer).to_have_text(ANSWER, timeout=90_000)
    assert page.evaluate("window.pwned") is None
    assert answer.evaluate("node => getComputedStyle(node).color") != "rgb(255, 0, 0)"
    assert PublishedRun.objects.get().publication.slug == "shop-help"
    assert any("Where is my parcel?" in str(m["content"]) for m in model_server.log[-1].messages)
    # The conversation's token went in a header, and in no URL (so in no access log).
    sent = [(r.url, r.all_headers().get("authorization", "")) for r in requests]
    token = next(auth for _, auth in sent if auth).removeprefix("Bearer ")
    assert len(token) >= 40 and not any(token in url for url, _ in sent)
    shoot(page, "chat-widget")

    # The same page on a site the publisher did not list: the panel says so.
    page.goto(stranger + "/index.html")
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This chat cannot be used on this site: its publisher has not allowed it here.",
        timeout=30_000,
    )
    expect(page.get_by_label("Your message")).to_be_disabled()
    shoot(page, "chat-widget-refused")


def test_a_full_conversation_says_so_and_the_next_message_starts_a_new_one(
    page: Page, model_server: ScriptedOpenAIServer, host_pages: list[str], settings: Any
) -> None:
    settings.CONVERSATION_MAX_TURNS = 1
    shop = host_pages[0]
    model_server.on(lambda r: True, Reply.text("Boots are in aisle 3."))
    user = page.user  # type: ignore[attr-defined]
    make_model_config(user, model_server.base_url)
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    actions.do_publish(
        make_team(user, minimal_spec(name="Shop help", nodes=[lead])), 1, "shop-help", "",
        user, [shop],
    )  # fmt: skip
    page.context.clear_cookies()
    page.goto(shop + "/index.html")
    page.get_by_role("button", name="Chat with us").click()
    panel = page.get_by_role("dialog", name="Chat with us")
    answers = page.locator("[data-chat-widget] >> .msg.assistant")
    panel.get_by_label("Your message").fill("Where are the boots?")
    panel.get_by_role("button", name="Send").click()
    expect(answers.last).to_have_text("Boots are in aisle 3.", timeout=90_000)

    # The conversation is full: the panel says what to do, and keeps the message typed.
    panel.get_by_label("Your message").fill("And the scarves?")
    panel.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_have_text(
        "This conversation has reached its limit of 1 message; send your message again to "
        "start a new one.",
        timeout=30_000,
    )
    shoot(page, "chat-widget-full")

    panel.get_by_role("button", name="Send").click()
    expect(page.locator("[data-chat-widget] >> .msg.user")).to_have_text(["And the scarves?"])
    expect(answers).to_have_count(1)
    expect(answers.last).to_have_text("Boots are in aisle 3.", timeout=90_000)
    assert PublishedRun.objects.count() == 2
