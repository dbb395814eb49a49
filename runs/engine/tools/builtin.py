"""The built-in tools. Each module below registers its tools on ``registry`` when imported."""

from .registry import Registry

registry = Registry()

from . import (  # noqa: E402,F401
    calculator,
    lint_diff,
    reconcile,
    security_scan_diff,
    sql_query,
)
