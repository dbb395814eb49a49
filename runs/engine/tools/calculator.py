"""Safe arithmetic: the expression is parsed, never evaluated by Python.

Every operation's result size is estimated before it is computed, so no expression can make
the interpreter build a number of millions of digits: ``((9**99)**999)**99`` is refused at
once instead of holding the worker for minutes.
"""

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
MAX_DIGITS = 1000  # of any integer, intermediate or final
_MAX_BITS = MAX_DIGITS * math.log2(10)


class CalculatorArgs(BaseModel):
    expression: str = Field(max_length=1000, description="Arithmetic, e.g. '(1200 - 150) * 1.2'.")


@registry.tool(
    "calculator",
    "Evaluate an arithmetic expression: + - * / // % **, "
    "parentheses, abs, round, min, max, sqrt, pi, e.",
    timeout_s=5,
    in_pool=True,
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
    except (OverflowError, RecursionError) as exc:
        raise ToolFailure(f"The result is too large to compute ({exc}).") from exc
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolFailure("The result is too large to represent (it overflows to infinity).")
    return {"expression": args.expression, "value": value}


def _evaluate(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.Name) and node.id in _CONSTANTS:
        return _CONSTANTS[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        _check_size(node.op, left, right)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        args = [_evaluate(a) for a in node.args]
        if node.func.id == "round" and len(args) == 2 and abs(args[1]) > MAX_EXPONENT:
            # round(5, -10**900) would compute 10**(10**900) inside int.__round__.
            raise ToolFailure(f"round() to more than {MAX_EXPONENT} digits is refused.")
        return _FUNCTIONS[node.func.id](*args)
    raise ToolFailure(f"Only arithmetic is allowed; {ast.unparse(node)!r} is not.")


def _check_size(op: ast.operator, left: Any, right: Any) -> None:
    """Refuses an operation whose integer result would pass ``MAX_DIGITS``, before it runs."""
    if isinstance(op, ast.Pow):
        if abs(right) > MAX_EXPONENT:
            raise ToolFailure(f"Exponents above {MAX_EXPONENT} are refused.")
        if isinstance(left, int) and isinstance(right, int) and right > 0:
            bits = right * math.log2(abs(left)) if abs(left) > 1 else 0
        else:
            return  # a float power overflows at once, with a clear error
    elif isinstance(op, ast.Mult) and isinstance(left, int) and isinstance(right, int):
        bits = abs(left).bit_length() + abs(right).bit_length()
    else:
        return  # +, -, /, //, % grow a number by one bit at most
    if bits > _MAX_BITS:
        raise ToolFailure(
            f"The result would have more than {MAX_DIGITS} digits; the calculator refuses "
            "numbers that large. Use smaller numbers or a float (e.g. 9.0 ** 99)."
        )
