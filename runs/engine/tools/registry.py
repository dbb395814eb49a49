"""The tool registry: typed functions that agents can call.

A tool is a function taking one pydantic argument model (plus a ``ToolContext``); the registry
turns the model into the JSON Schema the LLM sees, validates what the LLM sends back, runs the
function with a timeout and caps its output. A tool's own failure (bad arguments, an exception,
a timeout, output that cannot be serialised) comes back as ``ToolResult(ok=False)`` that the
agent can react to; it never crashes the run.

A tool registered with ``in_pool=True`` runs in a child process (``process_pool``) whose
timeout kills it: CPU-bound tools go there, so none can hold the worker's event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from ..interfaces import ToolContext, ToolResult, ToolSchema
from .process_pool import ChildDied, run_in_pool

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
    in_pool: bool = False  # runs in a child process that is killed when it overruns

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
        in_pool: bool = False,
    ) -> Callable[[ToolFunction], ToolFunction]:
        """Decorator: register ``function(args: ArgsModel, context)`` as a tool.

        ``in_pool``: run it in the process pool. It must then be a plain (not async),
        module-level function that needs only ``context.settings``, not the artifact store.
        """

        def register(function: ToolFunction) -> ToolFunction:
            args_model = next(iter(inspect.signature(function).parameters.values())).annotation
            if isinstance(args_model, str):
                args_model = inspect.get_annotations(function, eval_str=True)[
                    next(iter(inspect.signature(function).parameters))
                ]
            tool = Tool(name, description, args_model, function, timeout_s, output_cap)
            self.add(dataclasses.replace(tool, in_pool=in_pool))
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
            return await asyncio.wait_for(_invoke(tool, args, context), tool.timeout_s)
        except TimeoutError:
            return ToolResult(ok=False, error=f"{name} did not finish within {tool.timeout_s:g} s.")
        except ToolFailure as exc:
            return ToolResult(ok=False, error=str(exc))
        except ChildDied as exc:
            return ToolResult(
                ok=False,
                error=f"{name} was stopped: {exc}, most likely for using more memory than "
                "allowed. Try again with smaller input.",
            )
        except Exception as exc:  # a tool's bug must not crash the run; the agent reads it
            return ToolResult(ok=False, error=f"{name} failed: {type(exc).__name__}: {exc}"[:1000])


async def _invoke(tool: Tool, args: BaseModel, context: ToolContext) -> ToolResult:
    if tool.in_pool:
        # The child gets plain settings, not the artifact store or live objects (a client).
        settings = {k: v for k, v in context.settings.items() if _plain(v)}
        plain = ToolContext(context.run_id, context.agent, None, settings)
        return await run_in_pool(
            call_capped, tool.function, args, plain, tool.output_cap, timeout_s=tool.timeout_s
        )
    if inspect.iscoroutinefunction(tool.function):
        result = await tool.function(args, context)
    else:
        result = await asyncio.to_thread(tool.function, args, context)
    return capped(result, tool.output_cap)


def _plain(value: Any) -> bool:
    if isinstance(value, str | int | float | bool | None):
        return True
    if isinstance(value, list | tuple):
        return all(_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    return False


def call_capped(function: ToolFunction, args: BaseModel, context: ToolContext, cap: int) -> Any:
    """Runs in a pool child: the tool, and its result already capped, so what is sent back
    to the worker is small whatever the tool made."""
    return capped(function(args, context), cap)


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, bytes | bytearray | memoryview):
            return f"<{len(o)} bytes>"  # a blob's size, not its repr four times over
        return str(o)


def capped(result: Any, cap: int) -> ToolResult:
    """The result as JSON, cut at ``cap`` characters while it is being serialised: a huge
    result is never turned into one huge string."""
    if isinstance(result, ToolResult):
        return result
    parts: list[str] = []
    size = 0
    for chunk in _Encoder(ensure_ascii=False).iterencode(result):
        parts.append(chunk)
        size += len(chunk)
        if size > cap:
            return ToolResult(
                ok=True,
                result={
                    "truncated": True,
                    "shown_chars": cap,
                    "note": f"The result was longer than {cap} characters; ask for less.",
                    "text": "".join(parts)[:cap],
                },
            )
    return ToolResult(ok=True, result=json.loads("".join(parts)))
