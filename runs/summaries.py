"""One line per event, as a person reads it in a terminal (``manage.py runteam``).

What a model or a tool wrote comes first and in its own words, with the bookkeeping (activity
keys, recorded responses) left out: the audit trail and its exports hold every field. Control
characters are shown escaped, so model output cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def one_line(value: Any) -> str:
    """Text on one line: strings as they are, anything else as compact JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())  # newlines and runs of blanks become one space
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _then(label: str, value: Any) -> str:
    """``label: value``, or only the label when there is no value."""
    return f"{label}: {one_line(value)}" if value not in (None, "", [], {}) else label


def _message(p: dict[str, Any]) -> str:
    role = p.get("role") or "assistant"
    if p.get("content"):
        return f"{role}: {one_line(p['content'])}"
    calls = ", ".join(str(c.get("name")) for c in p.get("tool_calls") or [])
    return f"{role} calls {calls}" if calls else f"{role}: (no text)"


def _tool_result(p: dict[str, Any]) -> str:
    took = f" ({p['duration_ms']} ms)" if p.get("duration_ms") is not None else ""
    if p.get("ok") is False:
        return f"{p.get('tool')} failed{took}: {one_line(p.get('error'))}"
    return f"{p.get('tool')} returned{took}: {one_line(p.get('result'))}"


def _agent_finished(p: dict[str, Any]) -> str:
    if p.get("status") == "failed":
        return _then("failed", p.get("reason"))
    return _then("done", p.get("output"))


def _usage(p: dict[str, Any]) -> str:
    cost = float(p.get("cost_usd") or 0)
    return (
        f"{p.get('input_tokens', 0)} tokens in, {p.get('output_tokens', 0)} out, ${cost:.4f}"
        f" ({p.get('model')})"
    )


def _retry(p: dict[str, Any]) -> str:
    delay = p.get("delay_s")
    wait = f" in {delay:.1f} s" if isinstance(delay, int | float) else ""
    return _then(f"attempt {p.get('attempt')}{wait}", p.get("error"))


_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "run.started": lambda p: _then("input", p.get("input")),
    "run.finished": lambda p: _then("output", p.get("output")),
    "run.failed": lambda p: one_line(p.get("reason")),
    "run.cancelled": lambda p: one_line(p.get("reason")),
    "run.waiting": lambda p: one_line(p.get("reason")),
    "agent.started": lambda p: _then("task", p.get("task")) if p.get("task") else "no task given",
    "agent.finished": _agent_finished,
    "turn.started": lambda p: f"turn {p.get('turn')}",
    "message": _message,
    "tool.call": lambda p: f"{p.get('tool')}({one_line(p.get('arguments'))})",
    "tool.result": _tool_result,
    "delegation": lambda p: _then(f"to {p.get('to')}", p.get("task")),
    "handoff": lambda p: _then(f"{p.get('from')} to {p.get('to')}", p.get("reason")),
    "gate.passed": lambda p: _then(f"gate {p.get('edge')} passed", p.get("feedback")),
    "gate.failed": lambda p: _then(f"gate {p.get('edge')} sent it back", p.get("feedback")),
    "retry": _retry,
    "fallback": lambda p: _then(f"{p.get('from')} to {p.get('to')}", p.get("reason")),
    "human.requested": lambda p: _then("asks a person", p.get("prompt")),
    "human.answered": lambda p: _then(f"{p.get('by') or 'a person'} answered", p.get("answer")),
    "usage": _usage,
    "budget.warning": lambda p: (
        f"{p.get('name')} used {p.get('used')} of {p.get('limit')} {p.get('unit')}"
    ),
    "error": lambda p: one_line(p.get("message")),
    "activity.failed": lambda p: one_line(p.get("error")),
}


def event_summary(type: str, payload: dict[str, Any]) -> str:
    """What an event of ``type`` says, on one line; an unknown type shows its payload."""
    summary = _SUMMARIES.get(type)
    return summary(payload) if summary else one_line(payload)
