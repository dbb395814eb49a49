"""Safe arithmetic: the expression is parsed, never evaluated by Python."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from ..interfaces import ToolContext
from .builtin_tools import registry
from .registry import ToolFailure

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}  # fmt: skip
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
}
_CONSTANTS = {"pi": math.pi, "e": math.e}
MAX_EXPONENT = 1000


class CalculatorArgs(BaseModel):
    expression: str = Field(max_length=1000, description="Arithmetic, e.g. '(1200 - 150) * 1.2'.")


@registry.tool(
    "calculator",
    "Evaluate an arithmetic expression: + - * / // % **, "
    "parentheses, abs, round, min, max, sqrt, pi, e.",
    timeout_s=5,
)
def calculator(args: CalculatorArgs, context: ToolContext) -> dict[str, Any]:
    try:
        tree = ast.parse(args.expression, mode="eval")
    except SyntaxError as exc:
        raise ToolFailure(f"Not an arithmetic expression: {exc.msg}.") from exc
    try:
        value = _evaluate(tree.body)
    except ZeroDivisionError as exc:
        raise ToolFailure("Division by zero.") from exc
    return {"expression": args.expression, "value": value}


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ToolFailure(f"Exponents above {MAX_EXPONENT} are refused.")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(a) for a in node.args))
    raise ToolFailure(f"Only arithmetic is allowed; {ast.unparse(node)!r} is not.")
