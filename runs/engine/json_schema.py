"""JSON Schema, checked and evaluated without backtracking regular expressions.

Schemas come from users (a team's input schema, a human node's answer schema, an agent's
output schema, a gate's schema, a custom tool's arguments) and so do the values checked
against them. ``jsonschema`` evaluates ``pattern`` and ``patternProperties`` with Python's
``re``, which backtracks: ``^(a+)+$`` against 27 a's and a ``!`` holds the interpreter for
seconds, and each extra ``a`` doubles it. Every schema in the product goes through here:

    check_schema(schema)       # raises SchemaError saying what is wrong and where
    errors(schema, instance)   # every way ``instance`` misses ``schema``, as ValidationErrors

which means:

- every regular expression a schema holds is matched by RE2 (``google-re2``), in time linear in
  the text, and one RE2 cannot compile (lookaround, backreferences) makes the schema invalid;
- a ``$schema`` below the top level is refused: jsonschema would switch to its stock validator
  for that part, with ``re`` again;
- a ``$ref`` is resolved inside the schema only, never fetched from a URL (jsonschema's default
  still fetches remote references, from the server's network).

The keyword functions are jsonschema's own, rebound so that the ``re`` they call is RE2: the
semantics (and error messages) stay the library's, for every keyword that matches a regex
(``pattern``, ``patternProperties``, and ``additionalProperties``/``unevaluatedProperties``,
which look at ``patternProperties``), in every draft.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from types import FunctionType
from typing import Any

import jsonschema
import jsonschema._keywords
import jsonschema._legacy_keywords
import jsonschema._utils
import re2
import referencing
import referencing.exceptions
from jsonschema import Draft202012Validator, FormatChecker, SchemaError, ValidationError
from jsonschema.protocols import Validator

__all__ = ["SchemaError", "ValidationError", "check_schema", "errors", "validator"]

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # a refused pattern is the caller's answer, not a log line


@functools.lru_cache(maxsize=4096)
def compiled(pattern: str) -> Any:
    """The RE2 program for ``pattern``; ``re2.error`` when RE2 cannot compile it."""
    return re2.compile(pattern, _OPTIONS)


class _Re2Module:
    """Stands in for the ``re`` module inside jsonschema's keyword functions (they only call
    ``re.search``)."""

    error = re2.error

    @staticmethod
    def search(pattern: str, string: str) -> Any:
        return compiled(pattern).search(string)


_LIBRARY_MODULES = ("jsonschema._keywords", "jsonschema._legacy_keywords", "jsonschema._utils")


def _rebind_library() -> dict[FunctionType, FunctionType]:
    """Each function of jsonschema's keyword modules, with globals in which ``re`` is RE2 and
    the helpers they call are rebound too."""
    namespaces = {name: {**vars(sys.modules[name]), "re": _Re2Module} for name in _LIBRARY_MODULES}
    rebound: dict[FunctionType, FunctionType] = {}
    for namespace in namespaces.values():
        for value in namespace.values():
            if isinstance(value, FunctionType) and value.__module__ in namespaces:
                copy = FunctionType(
                    value.__code__,
                    namespaces[value.__module__],
                    value.__name__,
                    value.__defaults__,
                    value.__closure__,
                )
                copy.__kwdefaults__ = value.__kwdefaults__
                rebound.setdefault(value, copy)
    for namespace in namespaces.values():
        for key, value in namespace.items():
            if isinstance(value, FunctionType) and value in rebound:
                namespace[key] = rebound[value]
    return rebound


_REBOUND = _rebind_library()


def _format_checker(base: type[Any]) -> FormatChecker:
    """The draft's format checks, with ``regex`` meaning "RE2 can compile it"."""
    checker = FormatChecker(formats=())
    checker.checkers = dict(base.FORMAT_CHECKER.checkers)

    @checker.checks("regex", raises=re2.error)
    def is_regex(instance: object) -> bool:
        return not isinstance(instance, str) or compiled(instance) is not None

    return checker


@functools.cache
def _linear_class(base: type[Any]) -> type[Validator]:
    """``base`` (a draft's validator) with every keyword matching regexes by RE2."""
    keywords = {name: _REBOUND.get(fn, fn) for name, fn in base.VALIDATORS.items()}  # type: ignore[call-overload]
    return jsonschema.validators.extend(
        base, validators=keywords, format_checker=_format_checker(base)
    )


# References resolve within the schema (and the drafts' meta-schemas), never over the network.
_REGISTRY: referencing.Registry = referencing.Registry()


def validator(schema: Any) -> Validator:
    """A validator for ``schema`` in its own draft (``$schema``, 2020-12 when absent), whose
    regexes run on RE2. Check the schema first (``check_schema``)."""
    base = jsonschema.validators.validator_for(schema, default=Draft202012Validator)
    if isinstance(schema, dict):
        # Without its "$schema", a "$ref": "#" comes back to this class, not the stock one.
        schema = {key: value for key, value in schema.items() if key != "$schema"}
    return _linear_class(base)(schema, registry=_REGISTRY)


def check_schema(schema: Any) -> None:
    """Raise ``SchemaError`` if ``schema`` is not valid JSON Schema of its draft, holds a
    pattern RE2 cannot evaluate, or names a ``$schema`` below its top level."""
    base = jsonschema.validators.validator_for(schema, default=Draft202012Validator)
    try:
        base.check_schema(schema, format_checker=_linear_class(base).FORMAT_CHECKER)
    except SchemaError as exc:
        if exc.validator == "format" and exc.validator_value == "regex":
            raise SchemaError(
                f"the pattern {exc.instance!r} cannot be used: patterns are evaluated by RE2, "
                f"which has no lookaround or backreferences ({_reason(exc.instance)})",
                path=exc.path,
            ) from exc
        raise
    nested = next(_nested_dialects(schema), None)
    if nested is not None:
        raise SchemaError(
            "'$schema' may only appear at the top of a schema, not inside it",
            path=nested,
        )


def errors(schema: Any, instance: Any) -> list[ValidationError]:
    """Every way ``instance`` misses ``schema``. A schema stored before it was checked here
    (a pattern RE2 refuses, a reference that does not resolve) gives one error saying so,
    rather than an exception."""
    if next(_nested_dialects(schema), None) is not None:
        return [ValidationError("the schema names a '$schema' inside it; remove it")]
    try:
        return list(validator(schema).iter_errors(instance))
    except re2.error as exc:
        return [ValidationError(f"the schema holds a pattern RE2 cannot evaluate ({_text(exc)})")]
    except referencing.exceptions.Unresolvable as exc:
        return [ValidationError(f"the schema refers to {exc.ref!r}, which is not in it")]
    except RecursionError:
        return [ValidationError("the value or the schema is nested too deeply to check")]


def _reason(pattern: Any) -> str:
    try:
        compiled(pattern)
    except re2.error as exc:
        return _text(exc)
    return "it does not compile"


def _text(exc: Exception) -> str:
    """RE2's reason, which its bindings give as bytes."""
    reason = exc.args[0] if exc.args else exc
    return reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)


def _nested_dialects(schema: Any) -> Iterator[list[Any]]:
    """Paths of every ``$schema`` below the top level (iterative: any depth is safe)."""
    stack: list[tuple[Any, list[Any]]] = [(schema, [])]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            if path and "$schema" in value:
                yield path
            stack.extend((item, [*path, key]) for key, item in value.items())
        elif isinstance(value, list):
            stack.extend((item, [*path, index]) for index, item in enumerate(value))
