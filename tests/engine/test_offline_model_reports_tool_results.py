"""The offline model's answers are a report built from what the tools really returned (and,
with no tool, from the request itself), never a bare placeholder."""

import json

from runs.engine.interfaces import ChatMessage, ModelRequest, ToolCall
from runs.engine.models.offline import OfflineProvider


async def answer(user: str, results: list[tuple[str, object]], schema=None) -> str:
    calls = tuple(ToolCall(f"c{i}", name, "{}") for i, (name, _) in enumerate(results))
    messages = [ChatMessage("system", "You are Analyst."), ChatMessage("user", user)]
    if results:
        messages.append(ChatMessage("assistant", None, calls))
    for i, (name, result) in enumerate(results):
        text = result if isinstance(result, str) else json.dumps(result)
        messages.append(ChatMessage("tool", text, tool_call_id=f"c{i}", name=name))
    response = await OfflineProvider().complete(
        ModelRequest("offline", messages, output_schema=schema)
    )
    assert response.simulated and not response.tool_calls
    return response.content or ""


async def test_it_reports_a_table_with_its_row_count_and_totals():
    table = {"columns": ["account", "amount"], "rows": [["rent", 1200], ["payroll", 8000.5]]}

    text = await answer("Close the month", [("sql_query", table)])

    assert text.startswith("Report from 1 tool call:")
    assert "sql_query returned 2 rows with columns account, amount. amount totals 9200.5." in text


async def test_it_says_which_call_failed_and_why():
    text = await answer(
        "2/0", [("calculator", "Error: division by zero"), ("lint_diff", {"issues": []})]
    )

    assert text.startswith("Report from 2 tool calls (1 failed):")
    assert "- calculator failed: division by zero" in text
    assert "- lint_diff reported issues: 0 items." in text


async def test_it_names_the_first_findings_of_a_list():
    issues = [{"message": f"unused import os{i}", "line": i} for i in range(1, 6)]

    text = await answer("review", [("lint_diff", {"issues": issues})])

    assert "issues: 5 items: unused import os1 (line 1); unused import os2 (line 2)" in text


async def test_without_tools_it_restates_the_request_with_its_key_terms():
    text = await answer("Plan a launch of the newsletter. The newsletter goes out weekly.", [])

    assert text.startswith("The request (11 words) asks: Plan a launch of the newsletter.")
    assert "Key terms: newsletter, launch, weekly." in text
    assert "[simulated]" not in text


async def test_a_text_field_found_in_no_result_gets_the_report_not_a_placeholder():
    schema = {"type": "object", "properties": {"summary": {"type": "string"}}}

    text = await answer("Sum it", [("calculator", 42)], schema=schema)

    assert json.loads(text) == {"summary": "Report from 1 tool call:\n- calculator gave 42"}


async def test_an_empty_request_says_there_is_nothing_to_work_on():
    assert await answer("   ", []) == "Received an empty request: there is nothing to work on."
