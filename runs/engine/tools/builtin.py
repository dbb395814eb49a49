"""The built-in tools. Each module below registers its tools on ``registry`` when imported."""

from .registry import Registry

registry = Registry()

from . import (  # noqa: E402,F401
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
