"""The registry of the built-in tools, which each tool module adds its tools to when imported
(``@registry.tool``). ``builtin`` imports every tool module, so its ``registry`` (this one)
holds them all. Kept apart from ``builtin`` so no tool module imports the module that imports
it."""

from .registry import Registry

registry = Registry()
