"""The built-in tools. Each module below registers its tools on ``registry`` when imported."""

from .registry import Registry

registry = Registry()

from . import calculator  # noqa: E402,F401
