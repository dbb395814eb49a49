"""How a team's answer reads in a chat (the conversation page, the builder's chat panel, the
chat widget): a team whose final agent has an output schema answers with a JSON object, and a
person should read its words, not ``{"comment": "..."}``.

The rule, decided on the answer itself (it already satisfies its schema, and in a pipeline or
swarm any of several agents may give it):

- text is shown as it is;
- an object's **text field** is its only field whose value is text, or, when several are,
  the first of :data:`TEXT_FIELDS` among them; it is shown first, as the message, and the
  other fields follow under it, one ``Label: value`` line each, in the order of their names;
- an object without one is shown as those lines alone; a list as one ``- item`` line each.

Labels are the keys made readable (``risk_level``: ``Risk level``); numbers and true/false as
JSON writes them; a nested object or list as compact JSON. It is plain text: every surface
puts it in as text, never as HTML."""

from __future__ import annotations

import json
from typing import Any

#: The names a text field usually has, the likeliest first.
TEXT_FIELDS = ("answer", "reply", "response", "message", "text", "comment", "content", "summary")


def readable(value: Any) -> str:
    """``value`` (a run's output) as a person reads it in a chat."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        main = text_field(value)
        # By name: PostgreSQL's jsonb keeps no order of the model's to follow.
        rest = [line(key, value[key]) for key in sorted(value, key=str) if key != main]
        if main is None:
            return "\n".join(rest)
        return "\n\n".join([value[main], "\n".join(rest)]) if rest else value[main]
    if isinstance(value, list):
        return "\n".join(f"- {shown(item)}" for item in value)
    return shown(value)


def text_field(value: dict[str, Any]) -> str | None:
    """The key of the object's text field, if it has one (the rule above)."""
    texts = [key for key, item in value.items() if isinstance(item, str)]
    if len(texts) == 1:
        return texts[0]
    return next((name for name in TEXT_FIELDS if name in texts), None)


def line(key: str, item: Any) -> str:
    label = str(key).replace("_", " ").replace("-", " ").strip() or str(key)
    return f"{label[:1].upper()}{label[1:]}: {shown(item)}"


def shown(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, list) and all(isinstance(i, str | int | float) for i in item):
        return ", ".join(shown(i) for i in item)
    return json.dumps(item, ensure_ascii=False, default=str)
