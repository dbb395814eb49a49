"""publish writes a piece per platform to the outbox, fits it to each platform, and POSTs it
to a configured webhook through the network guard."""

from __future__ import annotations

import json
from pathlib import Path

from runs.engine.interfaces import ToolContext
from runs.engine.tools import builtin_registry

from .conftest import LocalServer

PIECE = {
    "title": "Heat pumps, explained",
    "body": "A heat pump moves heat. " * 40,
    "summary": "How a heat pump works and what it costs, in five minutes.",
}


async def publish(context: ToolContext, **args):
    return await builtin_registry().call("publish", {**PIECE, **args}, context)


async def test_it_writes_one_file_per_platform(context: ToolContext) -> None:
    result = await publish(context, platforms=["blog", "x", "linkedin"])
    assert result.ok, result.error
    outbox = Path(context.settings["outbox_dir"])
    files = sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*.md"))
    assert files == [
        "blog/run-1-heat-pumps-explained.md",
        "linkedin/run-1-heat-pumps-explained.md",
        "x/run-1-heat-pumps-explained.md",
    ]
    blog = (outbox / files[0]).read_text()
    assert "# Heat pumps, explained" in blog and PIECE["body"].strip() in blog
    post = (outbox / files[2]).read_text().split("\n", 1)[1].strip()
    assert post == PIECE["summary"] and len(post) <= 280


async def test_publishing_again_rewrites_the_same_file(context: ToolContext) -> None:
    await publish(context)
    await publish(context)
    assert len(list(Path(context.settings["outbox_dir"]).rglob("*.md"))) == 1


async def test_a_long_post_is_cut_to_the_platform_limit(context: ToolContext) -> None:
    result = await publish(context, platforms=["x"], summary="")
    entry = result.result["published"][0]
    assert entry["cut"] is True and entry["characters"] <= 280


async def test_a_configured_webhook_receives_the_piece(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["allowed_private_networks"] = ["127.0.0.1/32"]
    context.settings["webhook_urls"] = {"newsletter": local_server.url("/hooks/newsletter")}
    result = await publish(context, platforms=["newsletter", "blog"])
    assert result.ok
    newsletter = result.result["published"][0]
    assert newsletter["webhook"] == {"status": 200, "ok": True}
    assert "webhook" not in result.result["published"][1]
    sent = json.loads(local_server.received[0].body)
    assert sent["title"] == PIECE["title"] and sent["platform"] == "newsletter"


async def test_a_webhook_to_a_private_address_is_refused_but_the_file_is_written(
    context: ToolContext, local_server: LocalServer
) -> None:
    context.settings["webhook_urls"] = {"blog": local_server.url("/hook")}
    result = await publish(context)
    assert result.ok
    webhook = result.result["published"][0]["webhook"]
    assert webhook["ok"] is False and "loopback" in webhook["error"]
    assert local_server.received == []
    assert list(Path(context.settings["outbox_dir"]).rglob("*.md"))


async def test_without_an_outbox_it_says_what_to_configure(context: ToolContext) -> None:
    del context.settings["outbox_dir"]
    result = await publish(context)
    assert not result.ok and "outbox_dir" in result.error


async def test_an_unknown_platform_is_refused(context: ToolContext) -> None:
    result = await publish(context, platforms=["myspace"])
    assert not result.ok and "platforms" in result.error
