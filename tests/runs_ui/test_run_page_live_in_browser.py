"""In a real Chromium: the run page draws events that arrive live, without a reload, shows
what a model wrote as text, and offers the answer box when a run waits for a person."""

import json
import re

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect

from runs.broadcast import delta_message, events_message
from runs.models import Run
from tests.browser import LiveServer
from tests.factories import append_event, make_run

pytestmark = pytest.mark.browser

EVIL = '<script>window.pwned = true</script><img src=x onerror="window.pwned = true">'


def test_it_shows_live_events_without_a_reload(page: Page, asgi_server: LiveServer) -> None:
    run = make_run(page.user, status=Run.Status.RUNNING)
    append_event(run, "run.started", payload={"input": run.input})
    page.goto(f"/runs/{run.id}/")
    expect(page.get_by_text("Run started")).to_be_visible()
    expect(page.locator(".connection")).to_have_text("Live")
    page.evaluate("window.sameDocument = true")

    # An agent starts and streams a few tokens.
    started = append_event(run, "agent.started", "writer", span_id="a1", payload={"task": "draft"})
    asgi_server.publish(run, [events_message([started])])
    asgi_server.publish(
        run, [delta_message("writer", "a1", "Dra"), delta_message("writer", "a1", "fting")]
    )
    expect(page.locator(".feed-message.streaming")).to_contain_text("Drafting")

    # Its stored message (with markup in it) and a tool call arrive; the summary changes.
    message = append_event(
        run, "message", "writer", span_id="a1", payload={"role": "assistant", "content": EVIL}
    )
    call = append_event(
        run,
        "tool.call",
        "writer",
        payload={"tool": "calculator", "arguments": {"expr": "6*7"}, "call_id": "c1"},
    )
    summary = {"input_tokens": 120, "output_tokens": 45, "cost_usd": "0.0123"}
    asgi_server.publish(
        run, [events_message([message, call]), {"type": "run.summary", "run": summary}]
    )

    expect(page.locator(".feed-message .content")).to_have_text(EVIL)
    expect(page.locator(".feed-message.streaming")).to_have_count(0)
    expect(page.get_by_test_id("run-tokens")).to_have_text("120 / 45")
    expect(page.get_by_test_id("run-cost")).to_have_text("$0.0123")
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("window.sameDocument") is True

    # The tool call is collapsed until opened; the timeline shows the agent and its tool call.
    tool = page.locator("details.feed-tool")
    arguments = tool.get_by_role("group", name="Arguments")
    expect(arguments).to_be_hidden()
    tool.locator(":scope > summary").click()
    expect(arguments).to_contain_text("6*7")
    page.locator('.lane[data-agent="writer"] .marker-tool').click()
    expect(page.get_by_role("complementary", name="Details")).to_contain_text("calculator")

    # The run finishes.
    done = append_event(run, "agent.finished", "writer", span_id="a1", payload={"status": "ok"})
    end = append_event(run, "run.finished", payload={"output": "42"})
    finished = {"status": "succeeded", "output": "42"}
    asgi_server.publish(
        run, [events_message([done, end]), {"type": "run.summary", "run": finished}]
    )
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded")
    expect(page.get_by_test_id("run-output")).to_contain_text("42")
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)


def test_it_drops_events_it_already_has(page: Page, asgi_server: LiveServer) -> None:
    run = make_run(page.user, status=Run.Status.RUNNING)
    first = append_event(run, "agent.started", "scout", span_id="s", payload={"task": "look"})
    page.goto(f"/runs/{run.id}/")
    expect(page.get_by_text("scout started: look")).to_be_visible()
    # A batch that overlaps what the page has (as after a reconnect) adds only the new event.
    second = append_event(run, "error", "scout", payload={"message": "rate limited"})
    asgi_server.publish(run, [events_message([first, second])])
    expect(page.get_by_text("Error: rate limited")).to_be_visible()
    expect(page.get_by_text("scout started: look")).to_have_count(1)


def test_it_ignores_tokens_that_arrive_after_their_message_or_the_end(
    page: Page, asgi_server: LiveServer
) -> None:
    run = make_run(page.user, status=Run.Status.RUNNING)
    append_event(run, "agent.started", "seo", span_id="a1", payload={"task": "review"})
    append_event(
        run, "message", "seo", span_id="t1", payload={"role": "assistant", "content": "Passed"}
    )
    page.goto(f"/runs/{run.id}/")
    expect(page.get_by_text("Passed")).to_be_visible()

    # The broadcast's tokens of that message come after the page read it from the database.
    asgi_server.publish(run, [delta_message("seo", "t1", "Passed")])
    # Another agent is writing when the run is cancelled; tokens sent after that are stale.
    asgi_server.publish(run, [delta_message("writer", "t2", "Half a sent")])
    expect(page.locator(".feed-message.streaming")).to_have_text(re.compile("Half a sent"))
    cancelled = append_event(run, "run.cancelled", payload={"reason": "Cancelled by a person."})
    asgi_server.publish(run, [events_message([cancelled]), delta_message("writer", "t2", "ence")])

    expect(page.get_by_text("Run cancelled: Cancelled by a person.")).to_be_visible()
    expect(page.locator(".feed-message.streaming")).to_have_count(0)
    cut_off = page.locator(".feed-message.cut-off")
    expect(cut_off).to_have_count(1)
    expect(cut_off).to_contain_text("stopped before finishing")
    expect(cut_off.locator(".content")).to_have_text("Half a sent")


def test_it_offers_an_answer_box_when_a_person_is_needed(page: Page) -> None:
    run = make_run(page.user, status=Run.Status.WAITING)
    schema = {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"enum": ["publish", "revise"], "title": "Decision"},
            "notes": {"type": "string", "title": "Notes"},
        },
    }
    append_event(
        run,
        "human.requested",
        "editor",
        payload={
            "activity_key": "h1",
            "node": "editor",
            "prompt": "Publish the <b>draft</b>?",
            "answer_schema": schema,
            "kind": "human",
        },
    )
    page.goto(f"/runs/{run.id}/")
    box = page.get_by_role("form", name="Answer")
    expect(box).to_contain_text("Publish the <b>draft</b>?")
    expect(box.get_by_label("Decision")).to_be_visible()
    expect(box.get_by_label("Decision").locator("option")).to_have_text(
        ["Choose…", "publish", "revise"]
    )
    expect(box.get_by_label("Notes")).to_be_visible()


def test_it_shows_another_users_run_as_not_found(page: Page) -> None:
    from tests.factories import make_user

    run = make_run(make_user("mallory"), status=Run.Status.RUNNING)
    response = page.goto(f"/runs/{run.id}/")
    assert response is not None and response.status == 404


def test_it_reconnects_and_picks_up_what_it_missed(page: Page, asgi_server: LiveServer) -> None:
    connections: list[WebSocketRoute] = []
    subscriptions: list[dict] = []

    def through_to_the_server(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            subscriptions.append(json.loads(message))
            server.send(message)

        ws.on_message(from_page)
        connections.append(ws)

    page.route_web_socket("**/ws/runs/**", through_to_the_server)
    run = make_run(page.user, status=Run.Status.RUNNING)
    append_event(run, "agent.started", "scout", span_id="s", payload={"task": "look"})
    page.goto(f"/runs/{run.id}/")
    expect(page.get_by_text("scout started: look")).to_be_visible()

    # The connection drops; an event is stored while the page is away.
    connections[0].close(code=1011, reason="server restarted")
    append_event(run, "error", "scout", payload={"message": "while you were away"})

    # The page reconnects by itself and resubscribes after the last event it had.
    expect(page.get_by_text("Error: while you were away")).to_be_visible()
    assert subscriptions == [
        {"type": "subscribe", "after_seq": 0},
        {"type": "subscribe", "after_seq": 1},
    ]
    expect(page.get_by_text("scout started: look")).to_have_count(1)
    expect(page.locator(".connection")).to_have_text("Live")
