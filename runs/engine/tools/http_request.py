"""``http_request``: GET or POST a URL, through the network guard, with a size cap (see
``fetch`` for the settings that govern where it may go)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from ..interfaces import ToolContext
from .builtin_tools import registry
from .fetch import REQUEST_TIMEOUT_S, guarded_fetch

_UNSETTABLE_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class HttpRequestArgs(BaseModel):
    url: str = Field(max_length=2000, description="An http(s) URL on a public host.")
    method: Literal["GET", "POST"] = "GET"
    json_body: Any = Field(None, description="For POST: a JSON value to send as the body.")
    headers: dict[str, str] = Field(default_factory=dict, max_length=20)


@registry.tool(
    "http_request",
    "Send an HTTP GET or POST to a public URL and get the status, content type and body "
    "(JSON parsed when the response is JSON). Private and local addresses are refused.",
    timeout_s=REQUEST_TIMEOUT_S + 5,
)
async def http_request(args: HttpRequestArgs, context: ToolContext) -> dict[str, Any]:
    headers = {k: v for k, v in args.headers.items() if k.lower() not in _UNSETTABLE_HEADERS}
    return await guarded_fetch(
        args.method, args.url, context.settings, headers=headers, json_body=args.json_body
    )
