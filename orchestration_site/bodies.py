"""A request's body read at the boundary: capped before it is read whole, and parsed as the
JSON object an endpoint asks for. Trigger calls and a published team's endpoints share it;
each caller names its own limit and the words of its refusals."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja.errors import HttpError


def capped_body(request: HttpRequest, limit: int) -> bytes:
    """The raw body, or a 413 when it is (or says it is) larger than ``limit`` bytes."""
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit or len(body := request.body) > limit:
        raise HttpError(413, f"The body is larger than {limit} bytes; send less.")
    return body


def json_object(request: HttpRequest, limit: int, example: str, not_object: str) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``): a 413 over ``limit``, a 400
    naming ``example`` for what is not JSON (or nests too deep to parse), and a 422 saying
    ``not_object`` for JSON that is not an object."""
    body = capped_body(request, limit)
    try:
        document = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        raise HttpError(400, f"The body is not JSON; send {example}.") from None
    if not isinstance(document, dict):
        raise HttpError(422, not_object)
    return document
