"""The tool registry: typed functions that agents can call.

A tool is a function taking one pydantic argument model (plus a ``ToolContext``); the registry
turns the model into the JSON Schema the LLM sees, validates what the LLM sends back, runs the
function with a timeout and caps its output. A tool's own failure (bad arguments, an exception,
a timeout) comes back as ``ToolResult(ok=False)`` that the agent can react to; it never crashes
the run.
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..interfaces import ToolContext, ToolResult, ToolSchema

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_OUTPUT_CAP = 20_000  # characters of JSON the agent gets back

ToolFunction = Callable[[Any, ToolContext], Any | Awaitable[Any]]


class ToolFailure(Exception):
    """Raised by a tool for a failure the agent should read, e.g. "the diff does not apply"."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    function: ToolFunction
    timeout_s: float = DEFAULT_TIMEOUT_S
    output_cap: int = DEFAULT_OUTPUT_CAP
    source: str = "builtin"  # "builtin", "http" (a user's custom tool) or "mcp:<server>"

    def schema(self) -> ToolSchema:
        parameters = self.args_model.model_json_schema()
        parameters.pop("title", None)
        return ToolSchema(name=self.name, description=self.description, parameters=parameters)

    def describe(self) -> dict[str, Any]:
        """What ``GET /api/tools`` lists for this tool."""
        schema = self.schema()
        return {
            "name": self.name,
            "description": self.description,
            "parameters": schema.parameters,
            "timeout_s": self.timeout_s,
            "output_cap": self.output_cap,
            "source": self.source,
        }


class Registry:
    """A set of tools by name. Implements ``interfaces.ToolRegistry``."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        if tool.name in self._tools:
            raise ValueError(f"A tool named {tool.name!r} is already registered.")
        self._tools[tool.name] = tool

    def tool(
        self,
        name: str,
        description: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        output_cap: int = DEFAULT_OUTPUT_CAP,
    ) -> Callable[[ToolFunction], ToolFunction]:
        """Decorator: register ``function(args: ArgsModel, context)`` as a tool."""

        def register(function: ToolFunction) -> ToolFunction:
            args_model = next(iter(inspect.signature(function).parameters.values())).annotation
            if isinstance(args_model, str):
                args_model = inspect.get_annotations(function, eval_str=True)[
                    next(iter(inspect.signature(function).parameters))
                ]
            self.add(Tool(name, description, args_model, function, timeout_s, output_cap))
            return function

        return register

    def merged(self, *others: Registry) -> Registry:
        """A new registry with this one's tools and the others' (e.g. a user's custom tools)."""
        combined = Registry(self._tools.values())
        for other in others:
            for tool in other._tools.values():
                combined.add(tool)
        return combined

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> set[str]:
        return set(self._tools)

    def all(self) -> list[Tool]:
        return sorted(self._tools.values(), key=lambda t: t.name)

    def schemas(self, names: Sequence[str]) -> list[ToolSchema]:
        return [self._tools[n].schema() for n in names if n in self._tools]

    async def call(self, name: str, arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        tool = self._tools.get(name)
        if tool is None:
            return ToolResult(ok=False, error=f"There is no tool named {name!r}.")
        try:
            args = tool.args_model.model_validate(arguments)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}"
                for e in exc.errors()
            )
            return ToolResult(ok=False, error=f"Invalid arguments for {name}: {problems}")
        try:
            result = await asyncio.wait_for(_invoke(tool, args, context), tool.timeout_s)
        except TimeoutError:
            return ToolResult(ok=False, error=f"{name} did not finish within {tool.timeout_s:g} s.")
        except ToolFailure as exc:
            return ToolResult(ok=False, error=str(exc))
        except Exception as exc:  # a tool's bug must not crash the run; the agent reads it
            return ToolResult(ok=False, error=f"{name} failed: {type(exc).__name__}: {exc}")
        return _capped(result, tool.output_cap)


async def _invoke(tool: Tool, args: BaseModel, context: ToolContext) -> Any:
    if inspect.iscoroutinefunction(tool.function):
        return await tool.function(args, context)
    return await asyncio.to_thread(tool.function, args, context)


def _capped(result: Any, cap: int) -> ToolResult:
    if isinstance(result, ToolResult):
        return result
    text = json.dumps(result, default=str, ensure_ascii=False)
    if len(text) <= cap:
        return ToolResult(ok=True, result=json.loads(text))
    return ToolResult(
        ok=True,
        result={
            "truncated": True,
            "shown_chars": cap,
            "total_chars": len(text),
            "text": text[:cap],
        },
    )
