"""``publish``: write a piece to an outbox per platform, and POST it to a webhook where one is
configured.

Files go to ``settings["outbox_dir"]/<platform>/<run>-<slug>.md``; the name depends only on the
run and the title, so publishing again after a crash rewrites the same file instead of adding a
second. ``settings["webhook_urls"]`` maps a platform to a URL, called through the network guard.
A failed webhook is reported for that platform; the other platforms still publish.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..interfaces import ToolContext
from .builtin_tools import registry
from .fetch import guarded_fetch
from .registry import ToolFailure

Platform = Literal["blog", "newsletter", "linkedin", "x"]
# What each platform accepts; a longer piece is cut at a word boundary and marked as cut.
CHARACTER_LIMITS: dict[str, int | None] = {
    "blog": None,
    "newsletter": None,
    "linkedin": 3000,
    "x": 280,
}


class PublishArgs(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(min_length=1, max_length=100_000, description="The piece, in Markdown.")
    platforms: list[Platform] = Field(["blog"], min_length=1, max_length=4)
    summary: str = Field("", max_length=1000, description="Short text for social platforms.")


@registry.tool(
    "publish",
    "Publish a piece to one or more platforms (blog, newsletter, linkedin, x): written to the "
    "outbox, and sent to the platform's webhook where one is configured.",
    timeout_s=30,
)
async def publish(args: PublishArgs, context: ToolContext) -> dict[str, Any]:
    outbox = context.settings.get("outbox_dir")
    if not outbox:
        raise ToolFailure("Publishing is not configured: the operator must set outbox_dir.")
    platforms = list(dict.fromkeys(args.platforms))
    results = await asyncio.gather(
        *(_publish_one(args, platform, Path(outbox), context) for platform in platforms)
    )
    return {"title": args.title, "published": results}


async def _publish_one(
    args: PublishArgs, platform: str, outbox: Path, context: ToolContext
) -> dict[str, Any]:
    text, cut = _for_platform(args, platform)
    name = f"{_slug(context.run_id)}-{_slug(args.title) or 'untitled'}.md"
    path = outbox / platform / name
    front = json.dumps({"title": args.title, "platform": platform, "run": context.run_id})
    await asyncio.to_thread(_write, path, f"<!-- {front} -->\n{text}\n")
    result: dict[str, Any] = {"platform": platform, "file": f"{platform}/{name}", "characters": len(text), "cut": cut}  # fmt: skip
    webhook = (context.settings.get("webhook_urls") or {}).get(platform)
    if webhook:
        payload = {"platform": platform, "title": args.title, "body": text, "run": context.run_id}
        try:
            answer = await guarded_fetch("POST", webhook, context.settings, json_body=payload)
            result["webhook"] = {"status": answer["status"], "ok": answer["ok"]}
        except ToolFailure as exc:
            result["webhook"] = {"ok": False, "error": str(exc)}
    return result


def _for_platform(args: PublishArgs, platform: str) -> tuple[str, bool]:
    limit = CHARACTER_LIMITS[platform]
    if limit is None:
        return f"# {args.title}\n\n{args.body}", False
    text = args.summary or f"{args.title}\n\n{args.body}"
    if len(text) <= limit:
        return text, False
    return text[: limit - 2].rsplit(" ", 1)[0] + " …", True


def _write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(content, encoding="utf-8")
    partial.replace(path)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
