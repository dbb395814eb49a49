"""The built-in registry offers every tool of the issue with a valid JSON schema, a description,
a timeout and an output cap; failures come back as results, never exceptions."""

from __future__ import annotations

import jsonschema

from runs.engine.interfaces import ToolContext
from runs.engine.tools import Registry, Tool, builtin_registry

BUILTINS = {
    "calculator", "http_request", "lint_diff", "make_chart", "publish", "reconcile",
    "search_documents", "security_scan_diff", "seo_audit", "sql_query",
}  # fmt: skip


def test_every_builtin_tool_is_registered_with_a_valid_schema() -> None:
    registry = builtin_registry()
    assert registry.names() == BUILTINS
    for tool in registry.all():
        described = tool.describe()
        jsonschema.Draft202012Validator.check_schema(described["parameters"])
        assert described["parameters"]["type"] == "object"
        assert len(described["description"]) > 30
        assert 0 < described["timeout_s"] <= 120 and described["output_cap"] > 0


async def test_an_unknown_tool_and_bad_arguments_are_results(context: ToolContext) -> None:
    registry = builtin_registry()
    unknown = await registry.call("rm_rf", {}, context)
    assert not unknown.ok and "no tool named 'rm_rf'" in unknown.error
    bad = await registry.call("sql_query", {"max_rows": "lots"}, context)
    assert not bad.ok and "max_rows" in bad.error


async def test_a_crashing_tool_is_a_result(context: ToolContext) -> None:
    from pydantic import BaseModel

    class NoArgs(BaseModel):
        pass

    def broken(args: NoArgs, context: ToolContext) -> None:
        raise KeyError("oops")

    registry = Registry([Tool("broken", "Always fails.", NoArgs, broken)])
    result = await registry.call("broken", {}, context)
    assert not result.ok and "KeyError" in result.error


async def test_the_calculator_computes_and_refuses_code(context: ToolContext) -> None:
    registry = builtin_registry()
    good = await registry.call("calculator", {"expression": "(59083.25 - 51480.42) * 2"}, context)
    assert good.ok and round(good.result["value"], 2) == 15205.66
    for expression in ("__import__('os').system('id')", "1/0", "2 ** 99999", "1 +"):
        result = await registry.call("calculator", {"expression": expression}, context)
        assert not result.ok and result.error
