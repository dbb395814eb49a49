"""``runteam`` prints each event as one line of what it says, in the model's own words, with
nothing a model wrote able to drive the terminal."""

from typing import Any

from runs.summaries import event_summary


def summary(type: str, **payload: Any) -> str:
    return event_summary(type, payload)


def test_a_message_shows_its_text_on_one_line() -> None:
    text = summary("message", role="assistant", content="Two\nlines", activity_key="run/x/t1")
    assert text == "assistant: Two lines"


def test_a_turn_that_only_calls_tools_names_them() -> None:
    calls = [{"id": "c1", "name": "search"}, {"id": "c2", "name": "calculator"}]
    assert summary("message", role="assistant", content=None, tool_calls=calls) == (
        "assistant calls search, calculator"
    )


def test_control_characters_are_shown_not_obeyed() -> None:
    text = summary("message", role="assistant", content="\x1b[31mred\x1b[0m\x07")
    assert "\x1b" not in text and "\x07" not in text
    assert text == "assistant: \\x1b[31mred\\x1b[0m\\x07"


def test_tool_results_retries_and_failures_read_as_sentences() -> None:
    assert summary("tool.call", tool="calc", arguments={"expr": "6*7"}) == 'calc({"expr": "6*7"})'
    assert summary("tool.result", tool="calc", ok=True, result=42, duration_ms=3) == (
        "calc returned (3 ms): 42"
    )
    assert summary("tool.result", tool="calc", ok=False, error="boom") == "calc failed: boom"
    assert summary("retry", attempt=2, delay_s=0.5129, error="429") == "attempt 2 in 0.5 s: 429"
    assert summary("agent.finished", status="failed", reason="gave up") == "failed: gave up"


def test_an_unknown_type_shows_its_payload() -> None:
    assert summary("sla.breached", priority="high") == '{"priority": "high"}'
