"""What every page's top bar shows about runs: the number of questions waiting in the inbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from .inbox import inbox_count


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return {}
    # A callable: templates call it only where they show the count.
    return {
        "inbox_count": lambda: inbox_count(user),
        "inbox_poll_ms": settings.INBOX_POLL_SECONDS * 1000,
    }
