"""The ``offline`` provider: a deterministic stand-in for an LLM that needs no network, so every
template runs end to end on a fresh machine. Its responses are marked simulated (the UI says so);
its answers are built from what the tools really returned, so they read as a useful report.

It decides each turn from the request alone (same request, same answer):

1. The agent's own part of the conversation starts after the last system message (its prompt,
   or the note a swarm adds on a handoff). The *input* is the first user message, read as JSON
   when it is a JSON object.
2. While no tool result has come back in its own part, it acts:
   - transfer tools (swarm): it hands off to the peer whose tool description shares the most
     words with the input (words of four letters or more, compared on their first five letters,
     ignoring words every transfer tool shares), never to a peer that already held the
     conversation. No shared word, no handoff.
   - delegation tools (supervisor): it delegates to every worker, with the input as the task.
   - other tools: it calls each once, with arguments built from the tool's schema, per argument:
     a. a line ``tool_name.arg: value`` in the agent's instructions (the value read as JSON when
        it parses, as text otherwise): the documented way to pin an argument in a template;
     b. the input's field of the same name (searched in nested objects too);
     c. by meaning: ``diff``/``patch`` from a field holding a diff; ``query``/``sql`` from
        ``query``, ``sql`` or ``question``; ``text``/``content``/``document``/``body`` from the
        longest text in the input;
     d. the schema's default; else the input as text for strings, 0, false, [] or {}.
   A transfer is made alone; delegations and tools go out together in one turn.
3. Then (tool results are in, or it has no tools) it answers:
   - with an output schema: an object whose fields are filled from same-named fields of the tool
     results (latest first), then of the input; ``pass``/``passed``/``approved`` stand for each
     other, and ``feedback`` is taken from ``issues``/``problems``/``findings``/``errors`` when a
     result has no ``feedback``; a field found nowhere gets a placeholder of its type (``pass``-like booleans: true,
     or false when one of its tool calls failed; other booleans: false, strings: the plain report
     below, or the input's opening sentences when no tool ran); an array field gathers the same-named
     lists of every tool result in call order (a supervisor merging its workers' findings);
     a table result (``columns`` and ``rows``) is also read as one object per row and one
     list per column (one row: its values); an object field found nowhere is filled field by
     field the same way;
   - without: a report of what each tool returned, in words (a table's row count, columns and
     numeric totals; a list's length and first items; a failure's reason), each followed by
     the result itself when short; with no tool results, what the request asks, in its own
     opening sentences and key terms.
   A repair request gets the schema-filled answer again. Work a gate sent back (the input holds
   ``previous_output`` and ``feedback``) is revised: each text field the feedback names (its
   name with spaces, e.g. "meta description") and the previous output left empty gets the
   opening sentences of the previous output's longest text that fit in 160 characters.
Usage is estimated at four characters per token; the offline model costs nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ..interfaces import DeltaCallback, ModelRequest, ModelResponse, ToolCall, ToolSchema, Usage

PASS_NAMES = ("pass", "passed", "approved")
_ALIASES = {
    "diff": ("diff", "patch", "changes"),
    "patch": ("patch", "diff"),
    "query": ("query", "sql", "question"),
    "sql": ("sql", "query"),
}
_LONGEST_TEXT = {"text", "content", "document", "body"}
# Output fields filled from differently named fields of tool results when their own is absent.
_OUTPUT_ALIASES = {"feedback": ("feedback", "issues", "problems", "findings", "errors")}
_STOP = {"with", "from", "that", "this", "your", "have", "about", "when", "what", "they", "them",
         "into", "hand", "over", "their", "will", "should", "would", "there"}  # fmt: skip


class OfflineProvider:
    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None = None
    ) -> ModelResponse:
        turn = _Turn(request)
        calls = turn.decide_calls()
        content = None if calls else turn.answer()
        if content and on_delta is not None:
            await on_delta(content)
        characters = sum(len(m.content or "") for m in request.messages)
        usage = Usage(characters // 4 + 1, len(content or "") // 4 + 8 * len(calls))
        return ModelResponse(content, tuple(calls), usage, "tool_calls" if calls else "stop", True)


class _Turn:
    def __init__(self, request: ModelRequest) -> None:
        self.request = request
        messages = list(request.messages)
        last_system = max((i for i, m in enumerate(messages) if m.role == "system"), default=0)
        self.own = messages[last_system + 1 :]
        self.system = "\n".join(m.content or "" for m in messages if m.role == "system")
        user = next((m.content or "" for m in messages if m.role == "user"), "")
        self.input_text = user
        self.input = _json_object(user)
        self.tool_results = [_json_value(m.content) for m in self.own if m.role == "tool"]
        # A verdict nobody gave must not pass work whose checking tool failed.
        self.tool_failed = any(
            m.role == "tool" and (m.content or "").startswith("Error: ") for m in self.own
        )
        self.transferred_to = {c.name for m in messages for c in m.tool_calls}

    def decide_calls(self) -> list[ToolCall]:
        if self.tool_results or (self.request.output_schema and self._asked_to_repair()):
            return []
        tools = list(self.request.tools)
        transfers = [t for t in tools if t.name.startswith("transfer_to_")]
        peer = self._best_peer(transfers)
        if peer is not None:
            reason = f"the request matches {peer.name.removeprefix('transfer_to_')}"
            return [self._call(0, peer.name, {"reason": reason})]
        others = [t for t in tools if t not in transfers]
        return [self._call(i, t.name, self._arguments(t)) for i, t in enumerate(others)]

    def answer(self) -> str:
        if self.request.output_schema is not None:
            filled = self._fill(self.request.output_schema)
            return json.dumps(self._revised(filled), ensure_ascii=False)
        return self._report()

    def _report(self) -> str:
        """What the tools returned, in words; with none, what the request asks."""
        if not self.tool_results:
            return _request_report(self.input_text)
        names = [m.name or "tool" for m in self.own if m.role == "tool"]
        calls = len(names)
        failed = sum(1 for r in self.tool_results if _failure(r))
        head = f"Report from {calls} tool call{'s' if calls != 1 else ''}"
        head += f" ({failed} failed):" if failed else ":"
        lines = [head]
        for name, result in zip(names, self.tool_results, strict=True):
            lines.append(f"- {_describe(name, result)}")
        return "\n".join(lines)

    def _revised(self, filled: Any) -> Any:
        """Work sent back by a gate: fill each text field the feedback names that the previous
        output left empty with a summary of that output."""
        previous = (self.input or {}).get("previous_output")
        feedback = str((self.input or {}).get("feedback") or "").lower()
        if not (isinstance(filled, dict) and isinstance(previous, dict) and feedback):
            return filled
        summary = _summary(max(_strings(previous), key=len, default=""))
        for name, value in filled.items():
            named = name.replace("_", " ").lower() in feedback
            if named and isinstance(value, str) and not str(previous.get(name) or "").strip():
                filled[name] = summary
        return filled

    def _asked_to_repair(self) -> bool:
        return any(m.role == "assistant" for m in self.own)

    def _call(self, index: int, name: str, arguments: dict[str, Any]) -> ToolCall:
        turn = sum(1 for m in self.request.messages if m.role == "assistant")
        return ToolCall(f"offline_{turn}_{index}", name, json.dumps(arguments, ensure_ascii=False))

    def _best_peer(self, transfers: list[ToolSchema]) -> ToolSchema | None:
        candidates = [t for t in transfers if t.name not in self.transferred_to]
        if not candidates:
            return None
        described = {t.name: _stems(t.description) for t in transfers}
        shared = set.intersection(*described.values()) if len(described) > 1 else set()
        wanted = _stems(self.input_text)
        scores = [(len((described[t.name] - shared) & wanted), t) for t in candidates]
        best_score, best = max(scores, key=lambda s: s[0])
        return best if best_score > 0 else None

    def _arguments(self, tool: ToolSchema) -> dict[str, Any]:
        properties = tool.parameters.get("properties", {})
        return {
            name: self._argument(tool.name, name, schema) for name, schema in properties.items()
        }

    def _argument(self, tool: str, name: str, schema: dict[str, Any]) -> Any:
        pinned = re.search(
            rf"^\s*{re.escape(tool)}\.{re.escape(name)}\s*:\s*(.+)$", self.system, re.M
        )
        if pinned:
            return _json_value(pinned.group(1).strip())
        for alias in _ALIASES.get(name, (name,)):
            found = _find(self.input, alias)
            if found is not None:
                return found
        if name in _LONGEST_TEXT:
            return max(_strings(self.input), key=len, default=self.input_text)
        if "default" in schema:
            return schema["default"]
        return _placeholder(name, schema, self.input_text)

    def _fill(self, schema: dict[str, Any]) -> Any:
        if schema.get("type") != "object":
            return _placeholder("", schema, self._report())
        filled = {}
        for name, field_schema in schema.get("properties", {}).items():
            value = _as_type(self._lookup(name, field_schema), field_schema)
            if value is None and field_schema.get("properties"):
                value = self._fill(field_schema)
            filled[name] = (
                value
                if value is not None
                else _placeholder(name, field_schema, self._report(), passing=not self.tool_failed)
            )
        return filled

    def _lookup(self, name: str, schema: dict[str, Any] | None = None) -> Any:
        names = PASS_NAMES if name in PASS_NAMES else _OUTPUT_ALIASES.get(name, (name,))
        results = [_with_records(r) for r in self.tool_results]
        if (schema or {}).get("type") == "array":
            lists = [_find(r, name) for r in results]
            merged = [item for found in lists if isinstance(found, list) for item in found]
            if merged:
                return merged
        for source in [*reversed(results), self.input]:
            for candidate in names:
                found = _find(source, candidate)
                if found is not None:
                    return found
        return None


def _with_records(result: Any) -> Any:
    """A table (``columns`` and ``rows``, as sql_query returns) read as one object per row and
    as one list per column too (a single row's values as they are), so its columns fill
    same-named fields."""
    if not isinstance(result, dict):
        return result
    columns, rows = result.get("columns"), result.get("rows")
    if not (isinstance(columns, list) and isinstance(rows, list)):
        return result
    table = [row for row in rows if isinstance(row, list)]
    by_column = {c: [row[i] for row in table if i < len(row)] for i, c in enumerate(columns)}
    if len(table) == 1:  # one row (a total): its fields are values, not lists of one
        by_column = {c: values[0] for c, values in by_column.items() if values}
    records = [dict(zip(columns, row, strict=False)) for row in table]
    return {**by_column, **result, "records": records}


def _as_type(value: Any, schema: dict[str, Any]) -> Any:
    """Fit a found value to the field's type, or None when it cannot be (a placeholder then)."""
    kind = schema.get("type")
    if value is None or kind is None or isinstance(kind, list):
        return value
    if kind == "string":
        return _as_text(value)
    if kind == "boolean":
        return bool(value)
    if kind in ("number", "integer"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return value if ok and (kind == "number" or isinstance(value, int)) else None
    if kind == "array":
        return value if isinstance(value, list) else [value]
    return value if isinstance(value, dict) else None


def _as_text(value: Any) -> str:
    """Text for a string field: a list of findings reads as their messages, one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, dict) and "message" in v for v in value):
        return "\n".join(str(v["message"]) for v in value)
    return json.dumps(value, ensure_ascii=False)


def _placeholder(name: str, schema: dict[str, Any], text: str, *, passing: bool = True) -> Any:
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if schema.get("enum"):
        return schema["enum"][0]
    placeholders = {
        "integer": 0,
        "number": 0,
        "boolean": passing and name in PASS_NAMES,
        "array": [],
        "object": {},
    }
    return placeholders.get(kind or "string", text)


def _find(value: Any, name: str) -> Any:
    """The first field called ``name`` in ``value``, searching nested objects breadth-first."""
    queue = [value]
    while queue:
        current = queue.pop(0)
        if isinstance(current, dict):
            if current.get(name) is not None:
                return current[name]
            queue.extend(current.values())
        elif isinstance(current, list):
            queue.extend(current)
    return None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _stems(text: str) -> set[str]:
    words = re.findall(r"[a-z]{4,}", text.lower())
    return {w[:5] for w in words if w not in _STOP}


def _json_value(text: str | None) -> Any:
    try:
        return json.loads(text or "")
    except json.JSONDecodeError:
        return text


def _json_object(text: str) -> dict[str, Any] | None:
    value = _json_value(text)
    return value if isinstance(value, dict) else None


def _summary(text: str, limit: int = 160) -> str:
    """The opening sentences of ``text`` that fit in ``limit`` characters (a long first
    sentence is cut at a word)."""
    prose = " ".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    prose = re.sub(r"\s+", " ", prose).strip()
    summary = ""
    for sentence in re.split(r"(?<=[.!?])\s+", prose):
        if len(f"{summary} {sentence}".strip()) > limit:
            break
        summary = f"{summary} {sentence}".strip()
    return summary or prose[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "."


def _failure(result: Any) -> bool:
    return isinstance(result, str) and result.startswith("Error: ")


def _describe(name: str, result: Any) -> str:
    """One tool result in words, followed by the result itself when it is short."""
    if _failure(result):
        return f"{name} failed: {result.removeprefix('Error: ')}"
    if isinstance(result, str):
        return f"{name} answered: {_short(result)}"
    if isinstance(result, bool) or result is None:
        return f"{name} returned {json.dumps(result)}"
    if isinstance(result, int | float):
        return f"{name} gave {result:g}"
    if isinstance(result, list):
        return f"{name} returned {_count(len(result), 'item')}{_first_items(result)}"
    words = _table_words(result) if isinstance(result, dict) else None
    if words is None:
        words = _object_words(result)
    raw = json.dumps(result, ensure_ascii=False)
    return f"{name} {words}" + (f" Result: {raw}" if len(raw) <= 400 else "")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _first_items(items: list[Any], limit: int = 3) -> str:
    if not items:
        return ""
    texts = [_item_text(item) for item in items[:limit]]
    more = f", and {len(items) - limit} more" if len(items) > limit else ""
    return ": " + "; ".join(texts) + more


def _item_text(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("message", "title", "name", "description", "text"):
            if isinstance(item.get(key), str):
                line = item.get("line")
                return item[key] + (f" (line {line})" if isinstance(line, int) else "")
    text = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def _table_words(result: dict[str, Any]) -> str | None:
    columns, rows = result.get("columns"), result.get("rows")
    if not (isinstance(columns, list) and isinstance(rows, list)):
        return None
    words = f"returned {_count(len(rows), 'row')} with columns {', '.join(map(str, columns))}."
    totals = []
    for i, column in enumerate(columns):
        values = [r[i] for r in rows if isinstance(r, list) and i < len(r)]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers and len(numbers) == len(values) and len(rows) > 1:
            totals.append(f"{column} totals {round(sum(numbers), 2):g}")
    if totals:
        words += " " + "; ".join(totals) + "."
    return words


def _object_words(result: dict[str, Any]) -> str:
    """Lists by their length and first items, numbers and short texts as they are."""
    parts = []
    for key, value in list(result.items())[:8]:
        if isinstance(value, list):
            parts.append(f"{key}: {_count(len(value), 'item')}{_first_items(value, 2)}")
        elif isinstance(value, bool | int | float) or value is None:
            parts.append(f"{key} = {json.dumps(value)}")
        elif isinstance(value, str):
            parts.append(f"{key}: {value if len(value) <= 80 else value[:77] + '...'}")
    return ("reported " + "; ".join(parts) + ".") if parts else "returned an empty result."


def _request_report(text: str) -> str:
    """No tool to consult: what the request asks, in its own opening sentences and key terms."""
    value = _json_value(text)
    if isinstance(value, dict) and value:
        fields = ", ".join(f"{k} ({_kind(v)})" for k, v in list(value.items())[:8])
        longest = max(_strings(value), key=len, default="")
        about = f" The longest text begins: {_summary(longest)}" if longest.strip() else ""
        return f"Received a request with {_count(len(value), 'field')}: {fields}.{about}"
    prose = text.strip()
    if not prose:
        return "Received an empty request: there is nothing to work on."
    counts: dict[str, int] = {}
    for word in re.findall(r"[A-Za-z][A-Za-z-]{4,}", prose):
        if word.lower() not in _STOP:
            counts[word.lower()] = counts.get(word.lower(), 0) + 1
    terms = sorted(counts, key=lambda w: (-counts[w], prose.lower().index(w)))[:5]
    key = f" Key terms: {', '.join(terms)}." if terms else ""
    words = len(prose.split())
    return f"The request ({_count(words, 'word')}) asks: {_summary(prose, 240)}{key}"


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return "text"
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "number"
    return "list" if isinstance(value, list) else "object" if isinstance(value, dict) else "empty"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 500 else text[:500] + "..."
