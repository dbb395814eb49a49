"""Built-in tools cannot freeze or crash the worker: an agent that sends a tool input built to
make it compute for hours, backtrack for minutes or allocate a gigabyte gets a prompt, clear
failure (or its answer), and the run goes on. Each test drives the tool as an agent calls it:
a scripted model asks for the call, the engine runs it, the model reads the result."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from runs.engine.tools import Registry, builtin_registry
from tests.engine.helpers import run, server_models
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply

# Generous: each of these held the worker for 6 s to minutes before; now they take
# milliseconds once the tool pool is up.
PROMPT_S = 10.0


def solo(tools: list[str]):
    return make_spec("supervisor", [make_agent("solo", model="test", tools=tools)])


async def call_as_agent(
    openai_server, tool: str, arguments: dict[str, Any], *, tools: Registry | None = None
) -> tuple[Any, dict[str, Any], float]:
    """The model calls ``tool`` once, then answers with what it got back."""
    openai_server.on(lambda r: r.turn == 1, Reply.calls((tool, arguments)))
    openai_server.on(lambda r: True, lambda r: Reply.text("read: " + r.tool_results[-1][:200]))
    started = time.monotonic()
    outcome, sink = await run(
        solo([tool]), "go", models=server_models(openai_server.base_url), tools=tools
    )
    elapsed = time.monotonic() - started
    [result] = sink.of("tool.result")
    return outcome, result.payload, elapsed


@pytest.fixture(autouse=True)
async def warm_pool() -> None:
    # The first call of a process starts the tool pool (a fork server that imports the
    # tools): not what these tests measure.
    await builtin_registry().call("calculator", {"expression": "1"}, _context())


def _context():
    from runs.engine.interfaces import ToolContext

    return ToolContext("warm", "warm")


async def test_a_power_tower_is_refused_at_once(openai_server) -> None:
    outcome, result, elapsed = await call_as_agent(
        openai_server, "calculator", {"expression": "((9**99)**999)**99"}
    )

    assert outcome.status == "succeeded", outcome.reason
    assert result["ok"] is False
    assert "more than 1000 digits" in result["error"]
    assert elapsed < PROMPT_S
    assert "more than 1000 digits" in outcome.output  # the agent read the failure


async def test_rounding_to_a_huge_number_of_digits_is_refused(openai_server) -> None:
    outcome, result, elapsed = await call_as_agent(
        openai_server, "calculator", {"expression": "round(5, -10**900)"}
    )

    assert outcome.status == "succeeded", outcome.reason
    assert result["ok"] is False and "round() to more than 1000 digits" in result["error"]
    assert elapsed < PROMPT_S


async def test_big_but_bounded_arithmetic_still_works(openai_server) -> None:
    _, result, _ = await call_as_agent(
        openai_server, "calculator", {"expression": "2**1000 * 3**100 - 10**300"}
    )

    assert result["ok"] is True
    assert result["result"]["value"] == 2**1000 * 3**100 - 10**300


async def test_a_draft_built_to_backtrack_is_audited_promptly(openai_server) -> None:
    # A heading of 3,000 spaces between two words (cubic for the old heading pattern) and a
    # 60,000-character run of "!" (quadratic for the old sentence pattern).
    draft = "# x" + " " * 3000 + "x\n\n" + "Some words here. " * 50 + "!" * 60_000 + "x"
    outcome, result, elapsed = await call_as_agent(
        openai_server, "seo_audit", {"text": draft, "keyword": "words"}
    )

    assert outcome.status == "succeeded", outcome.reason
    assert result["ok"] is True, result["error"]
    assert result["result"]["stats"]["headings"] == [{"level": 1, "text": "x" + " " * 3000 + "x"}]
    assert elapsed < PROMPT_S


async def test_a_blob_of_200_megabytes_fails_cleanly(openai_server, tmp_path: Path) -> None:
    outcome, result, elapsed = await call_as_agent(
        openai_server, "sql_query", {"query": "SELECT zeroblob(200000000) AS blob"}
    )

    assert outcome.status == "succeeded", outcome.reason
    assert result["ok"] is False
    assert "too big" in result["error"] and "1,000,000" in result["error"]
    assert elapsed < PROMPT_S


async def test_long_rows_are_cut_before_they_are_all_fetched(openai_server) -> None:
    # 500 rows of 900 KB each would be 450 MB of text; the tool stops at its budget.
    query = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n LIMIT 500) "
        "SELECT printf('%.*c', 900000, 'x') AS big FROM n"
    )
    _, result, _ = await call_as_agent(
        openai_server, "sql_query", {"query": query, "max_rows": 500}
    )

    assert result["ok"] is True, result["error"]
    assert result["result"]["truncated"] is True
    assert result["result"]["row_count"] < 500


# --- a tool's own exception, or a result that cannot be serialised -------------------------

broken = Registry()


class Nothing(BaseModel):
    pass


@broken.tool("raises_value_error", "Fails with a ValueError.")
def raises_value_error(args: Nothing, context: Any) -> dict:
    raise ValueError("the ledger has no such period")


@broken.tool("returns_a_cycle", "Returns a structure that refers to itself.")
def returns_a_cycle(args: Nothing, context: Any) -> dict:
    result: dict[str, Any] = {}
    result["self"] = result
    return result


@broken.tool("returns_a_huge_int", "Returns an integer too long to write as JSON text.")
def returns_a_huge_int(args: Nothing, context: Any) -> dict:
    return {"value": 10**5000}


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ("raises_value_error", "ValueError: the ledger has no such period"),
        ("returns_a_cycle", "Circular reference"),
        ("returns_a_huge_int", "ValueError"),
    ],
)
async def test_a_tools_exception_is_a_failed_result_not_a_crashed_run(
    openai_server, tool: str, message: str
) -> None:
    outcome, result, _ = await call_as_agent(openai_server, tool, {}, tools=broken)

    assert outcome.status == "succeeded", outcome.reason
    assert result["ok"] is False and message in result["error"]
    assert outcome.output.startswith("read: ")
