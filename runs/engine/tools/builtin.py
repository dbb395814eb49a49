"""The built-in tools. Each module below adds its tools to ``registry`` when imported."""

from . import (  # noqa: F401 - imported for the tools they register
    calculator,
    http_request,
    lint_diff,
    make_chart,
    publish,
    reconcile,
    search_documents,
    security_scan_diff,
    seo_audit,
    sql_query,
)
from .builtin_tools import registry

__all__ = ["registry"]
