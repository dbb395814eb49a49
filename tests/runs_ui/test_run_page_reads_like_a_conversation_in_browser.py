"""The run page reads like a conversation: the names people gave their agents (not ids such as
agent-2) on the timeline and in the feed, messages as safe Markdown (no raw HTML), the final
output first, tokens, cost and time per call and per agent, and a feed that leaves a reader
where they are while new messages arrive."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from runs.broadcast import events_message
from runs.models import Run
from tests.browser import LiveServer
from tests.factories import append_event, make_run

pytestmark = pytest.mark.browser

SPEC = {
    "name": "Newsroom",
    "pattern": "supervisor",
    "entry": "lead",
    "nodes": [
        {"kind": "agent", "id": "lead", "name": "Editor in chief"},
        {"kind": "agent", "id": "agent-2", "name": "Fact checker"},
    ],
    "edges": [{"id": "e1", "source": "lead", "target": "agent-2", "kind": "delegates"}],
}
EVIL = '<script>window.pwned = true</script><img src=x onerror="window.pwned = true">'
CHECKER_TURN = "run/lead/t1/c0/agent-2/t1"
REPORT = f"# Findings\n\n- **2** claims checked\n- `source.md` cited\n\n{EVIL}"


def newsroom_run(owner, **fields) -> Run:
    run = make_run(owner, spec=SPEC, team_name="Newsroom", **fields)
    append_event(run, "run.started", payload={"input": run.input})
    append_event(run, "agent.started", "lead", span_id="a1", payload={"task": "check it"})
    append_event(
        run, "delegation", "lead", span_id="t1",
        payload={"to": "agent-2", "task": "check the claims", "call_id": "c0"},
    )  # fmt: skip
    append_event(run, "agent.started", "agent-2", span_id="a2", payload={"task": "check"})
    append_event(
        run, "message", "agent-2", span_id="a2",
        payload={"role": "assistant", "content": REPORT, "tool_calls": [],
                 "activity_key": f"{CHECKER_TURN}/model"},
    )  # fmt: skip
    return run


def test_it_names_agents_as_people_named_them(page: Page) -> None:
    run = newsroom_run(page.user, status=Run.Status.RUNNING)
    page.goto(f"/runs/{run.id}/")

    lanes = page.get_by_role("group", name="Timeline").locator(".lane-name")
    expect(lanes).to_have_text(["Editor in chief", "Fact checker"])
    feed = page.get_by_test_id("feed")
    expect(feed).to_contain_text("Editor in chief delegates to Fact checker: check the claims")
    expect(feed.locator(".feed-message .agent")).to_have_text("Fact checker")
    expect(feed).not_to_contain_text("agent-2")
    page.locator('.lane[data-agent="lead"] .marker-delegation').click()
    expect(page.get_by_role("complementary", name="Details")).to_contain_text(
        "delegates to Fact checker"
    )


def test_it_shows_messages_as_markdown_and_never_runs_markup(page: Page) -> None:
    run = newsroom_run(page.user, status=Run.Status.RUNNING)
    page.goto(f"/runs/{run.id}/")

    message = page.locator(".feed-message .content-markdown")
    expect(message.get_by_role("heading", name="Findings")).to_be_visible()
    expect(message.locator("li strong")).to_have_text("2")
    expect(message.locator("code")).to_have_text("source.md")
    # The markup a model wrote is shown as text, and none of it ran.
    expect(message).to_contain_text(EVIL)
    expect(message.locator("script, img")).to_have_count(0)
    assert page.evaluate("window.pwned") is None


def test_it_puts_the_output_first(page: Page) -> None:
    run = newsroom_run(
        page.user, status=Run.Status.SUCCEEDED, output="## Verdict\n\nAll **2** claims hold."
    )
    append_event(run, "agent.finished", "agent-2", span_id="a2", payload={"status": "ok"})
    append_event(run, "agent.finished", "lead", span_id="a1", payload={"status": "ok"})
    append_event(run, "run.finished", payload={"output": run.output})
    page.goto(f"/runs/{run.id}/")

    output = page.get_by_test_id("run-output")
    expect(output.get_by_role("heading", name="Verdict")).to_be_visible()
    expect(output.locator("strong")).to_have_text("2")
    above = output.bounding_box()
    timeline = page.get_by_role("region", name="Timeline of agents").bounding_box()
    assert above and timeline and above["y"] + above["height"] <= timeline["y"]
    # Without scrolling, at the first screen.
    assert above["y"] < 720


def test_the_feed_leaves_a_reader_where_they_are(page: Page, asgi_server: LiveServer) -> None:
    run = make_run(page.user, status=Run.Status.RUNNING, spec=SPEC)
    start = timezone.now() - timedelta(minutes=1)
    for n in range(40):
        append_event(
            run, "message", "lead", span_id=f"s{n}", ts=start + timedelta(seconds=n),
            payload={"role": "assistant", "content": f"Paragraph {n} of the draft."},
        )  # fmt: skip
    page.goto(f"/runs/{run.id}/")
    feed = page.get_by_test_id("feed")
    expect(feed).to_contain_text("Paragraph 39 of the draft.")

    # The reader scrolls up to read; a new message arrives and they stay where they were.
    feed.hover()
    page.mouse.wheel(0, -4000)
    page.wait_for_function("() => document.querySelector('[data-testid=feed]').scrollTop === 0")
    more = append_event(
        run, "message", "lead", span_id="s40",
        payload={"role": "assistant", "content": "Paragraph 40 of the draft."},
    )  # fmt: skip
    asgi_server.publish(run, [events_message([more])])
    expect(feed).to_contain_text("Paragraph 40 of the draft.")
    assert feed.evaluate("el => el.scrollTop") == 0

    # Back at the end, the feed follows new messages again.
    page.mouse.wheel(0, 100_000)
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-testid=feed]');"
        " return el.scrollHeight - el.scrollTop - el.clientHeight < 2; }"
    )
    last = append_event(
        run, "message", "lead", span_id="s41",
        payload={"role": "assistant", "content": "Paragraph 41 of the draft."},
    )  # fmt: skip
    asgi_server.publish(run, [events_message([last])])
    expect(feed.get_by_text("Paragraph 41 of the draft.")).to_be_in_viewport()


def test_it_shows_tokens_cost_and_time_per_call_and_per_agent(page: Page) -> None:
    run = newsroom_run(page.user, status=Run.Status.RUNNING)
    # The fact checker's message was written by its first model call; a second call used a tool.
    call = CHECKER_TURN
    for usage in ((f"{call}/model", 940, 312, 0.0072), (f"{call}/t2/model", 60, 8, 0.0003)):
        append_event(
            run, "usage", "agent-2", key=f"{usage[0]}#usage",
            payload={"input_tokens": usage[1], "output_tokens": usage[2], "cost_usd": usage[3]},
        )  # fmt: skip
    append_event(
        run, "tool.call", "agent-2",
        payload={"tool": "search", "arguments": {}, "call_id": "c", "activity_key": f"{call}/c0"},
    )  # fmt: skip
    append_event(
        run, "tool.result", "agent-2",
        payload={"tool": "search", "call_id": "c", "activity_key": f"{call}/c0", "ok": True,
                 "result": "3 sources", "duration_ms": 340.2},
    )  # fmt: skip
    page.goto(f"/runs/{run.id}/")

    expect(page.locator("details.feed-tool summary")).to_have_text(
        "Fact checker called search done in 340 ms"
    )
    expect(page.locator(".feed-message .usage")).to_have_text("940 in · 312 out · $0.0072")
    table = page.get_by_role("region", name="Usage by agent")
    expect(table.get_by_role("row")).to_have_count(2)
    expect(table.get_by_role("row").nth(1)).to_have_text(
        re.compile(r"Fact checker\s*2\s*1000 / 320\s*\$0\.0075")
    )


def test_it_folds_what_an_agent_was_given(page: Page) -> None:
    run = newsroom_run(page.user, status=Run.Status.RUNNING)
    task = "Check every claim in the draft against its source. " * 6
    append_event(
        run, "message", "agent-2", span_id="a2",
        payload={"role": "user", "content": task, "tool_calls": []},
    )  # fmt: skip
    page.goto(f"/runs/{run.id}/")

    given = page.locator("details.feed-given")
    expect(given.locator("summary")).to_contain_text("Fact checker was given Check every claim")
    expect(given.locator(".content")).to_be_hidden()
    given.locator("summary").click()
    expect(given.locator(".content")).to_have_text(task.strip())
