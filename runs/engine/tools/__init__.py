"""Tools agents can call: the registry and the built-in tools.

``builtin_registry()`` is the registry every team gets; a user's custom HTTP tools and MCP
servers' tools are merged into it by the shell when a run starts.
"""

from functools import cache

from .registry import Registry, Tool, ToolFailure

__all__ = ["Registry", "Tool", "ToolFailure", "builtin_registry"]


@cache
def builtin_registry() -> Registry:
    from . import builtin

    return builtin.registry
