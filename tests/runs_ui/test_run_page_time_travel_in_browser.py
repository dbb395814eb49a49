"""In a real Chromium, on a finished run: JSON drawn as a tree, a replay that steps through the
run event by event with the timeline following, "fork from here" with an edited input and
another version, "rerun with the same input", and a clear message when the edit is not JSON."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from runs.models import Run
from teams.services import save_spec
from teams.spec import parse
from tests.factories import append_event, make_run_of, make_supervisor_team

pytestmark = pytest.mark.browser


def finished_run(owner) -> Run:
    team = make_supervisor_team(owner)
    run = make_run_of(team, status=Run.Status.SUCCEEDED, output={"answer": 42, "steps": [6, 7]})
    start = timezone.now() - timedelta(minutes=5)
    at = iter(start + timedelta(seconds=10 * n) for n in range(10))
    append_event(run, "run.started", ts=next(at), payload={"input": run.input})
    append_event(run, "agent.started", "lead", span_id="a1", ts=next(at), payload={"task": "6 * 7"})
    append_event(
        run, "tool.call", "lead", span_id="a1", ts=next(at),
        payload={"tool": "calculator", "call_id": "c0", "arguments": {"expression": "6 * 7"},
                 "activity_key": "run/lead/t1/c0/tool"},
    )  # fmt: skip
    append_event(
        run, "tool.result", "lead", span_id="a1", ts=next(at),
        payload={"tool": "calculator", "call_id": "c0", "ok": True,
                 "result": {"value": 42, "work": {"operands": {"left": 6, "right": 7}}},
                 "activity_key": "run/lead/t1/c0/tool"},
    )  # fmt: skip
    append_event(run, "agent.finished", "lead", span_id="a1", ts=next(at), payload={"status": "ok"})
    append_event(run, "run.finished", ts=next(at), payload={"output": run.output})
    return run


def test_json_is_a_tree_with_its_deep_parts_folded(page: Page) -> None:
    run = finished_run(page.user)
    page.goto(f"/runs/{run.id}/")

    output = page.get_by_test_id("run-output").get_by_test_id("json-tree")
    expect(output.locator(".json-leaf", has_text="answer:")).to_have_text("answer: 42")
    expect(output.locator(".json-leaf", has_text="answer:").locator(".json-number")).to_have_text(
        "42"
    )
    page.get_by_text("called calculator").click()
    result = page.get_by_role("group", name="Result")
    expect(result.get_by_text("operands: { left, right } 2 keys")).to_be_visible()
    # Two levels down: folded to its shape, opened with a click.
    expect(result.get_by_text("left: 6")).to_be_hidden()
    result.get_by_text("operands: { left, right } 2 keys").click()
    expect(result.get_by_text("left: 6")).to_be_visible()


def test_replay_steps_through_the_run_with_the_timeline_following(page: Page) -> None:
    run = finished_run(page.user)
    page.goto(f"/runs/{run.id}/")
    page.get_by_role("button", name="Replay step by step").click()

    where = page.get_by_test_id("replay-where")
    expect(where).to_have_text("Event 1 of 6: run.started")
    feed = page.get_by_test_id("feed")
    expect(feed).not_to_contain_text("called calculator")
    expect(page.get_by_test_id("run-output")).to_have_count(0)
    page.get_by_role("button", name="Next event").click()
    expect(where).to_have_text("Event 2 of 6: agent.started · Lead")
    cursor = page.locator('.lane[data-agent="lead"] .replay-cursor')
    left_at_start = cursor.bounding_box()["x"]

    page.get_by_role("button", name="Next event").click()
    expect(where).to_have_text("Event 3 of 6: tool.call · Lead")
    expect(feed.get_by_text("called calculator")).to_contain_text("running…")
    assert cursor.bounding_box()["x"] > left_at_start
    page.get_by_role("button", name="Next event").click()
    expect(feed.get_by_text("called calculator")).to_contain_text("done")

    page.get_by_role("button", name="Leave replay").click()
    expect(page.get_by_test_id("run-output")).to_be_visible()


def test_fork_from_an_event_with_an_edited_input_and_another_version(page: Page) -> None:
    run = finished_run(page.user)
    team = run.team
    save_spec(team, parse(team.spec), by=page.user, message="Sharper")
    page.goto(f"/runs/{run.id}/")

    page.get_by_role("button", name="Replay step by step").click()
    page.get_by_label("Event", exact=True).fill("4")
    page.get_by_role("button", name="Fork from here").click()
    form = page.get_by_role("dialog", name="Fork the run")
    expect(form).to_contain_text("up to event #4")
    # A broken edit is refused in words, and nothing starts.
    form.get_by_label("Input").fill('{"question": ')
    form.get_by_role("button", name="Run the fork").click()
    expect(form.get_by_role("alert")).to_contain_text("The input is not valid JSON")
    assert Run.objects.count() == 1

    form.get_by_label("Input").fill('{"question": "What is 7 * 8?"}')
    form.get_by_label("Team version").select_option("2")
    form.get_by_role("button", name="Run the fork").click()
    page.wait_for_url(lambda url: str(run.id) not in url)
    fork = Run.objects.exclude(id=run.id).get()
    assert page.url.endswith(f"/runs/{fork.id}/")
    assert (fork.source_run_id, fork.forked_at_seq) == (run.id, 4)
    assert fork.input == {"question": "What is 7 * 8?"}
    assert fork.team_version.number == 2
    assert list(fork.events.order_by("seq").values_list("type", flat=True))[:4] == [
        "run.started", "agent.started", "tool.call", "tool.result",
    ]  # fmt: skip


def test_rerun_with_the_same_input(page: Page) -> None:
    run = finished_run(page.user)
    page.goto(f"/runs/{run.id}/")

    page.get_by_role("button", name="Rerun with the same input").click()
    page.wait_for_url(lambda url: str(run.id) not in url)
    rerun = Run.objects.exclude(id=run.id).get()
    assert (rerun.source_run_id, rerun.forked_at_seq, rerun.input) == (run.id, 0, run.input)


def test_a_running_run_offers_no_time_travel(page: Page) -> None:
    team = make_supervisor_team(page.user)
    run = make_run_of(team, status=Run.Status.RUNNING)
    append_event(run, "run.started", payload={"input": run.input})
    page.goto(f"/runs/{run.id}/")

    expect(page.get_by_test_id("run-status")).to_have_text("running")
    expect(page.get_by_role("toolbar", name="Time travel")).to_have_count(0)
