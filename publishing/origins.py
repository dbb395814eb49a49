"""The origins a publication lets embed its chat widget: exact ``scheme://host[:port]``
values, as a browser sends them in the ``Origin`` header; no paths, no wildcards."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

#: Origins one publication may list: each is a site to keep track of.
MAX_ORIGINS = 20


def checked(text: str) -> str:
    """``text`` as the browser writes the origin (lower-case, no default port); ValueError
    with a sentence for anything else."""
    value = text.strip()
    if "*" in value:
        raise ValueError(f"{value!r}: wildcards are not allowed; list each origin.")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} is not an origin like https://shop.example.com.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an origin like https://shop.example.com.")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(
            f"{value!r} has more than an origin: give scheme, host and port only, no path."
        )
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    elif not re.fullmatch(r"[a-z0-9.-]+", host):
        raise ValueError(
            f"{value!r} is not an origin like https://shop.example.com; write an "
            "international name in its xn-- form, as browsers send it."
        )
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def checked_list(values: list[str]) -> list[str]:
    if len(values) > MAX_ORIGINS:
        raise ValueError(f"List at most {MAX_ORIGINS} origins.")
    found: list[str] = []
    for value in values:
        origin = checked(value)
        if origin not in found:
            found.append(origin)
    return found
