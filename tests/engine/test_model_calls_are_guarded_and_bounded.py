"""A hostile model server gets nothing it should not and cannot hold a worker: the openai
provider connects only where the network guard allows (checked at connect time, so a name that
resolves to a private address is refused too), never follows a redirect, sends a key only to the
hosts it is bound to, cuts off an answer that streams without end or drips forever, and shows
users a short error with no key in it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web

from runs.engine.interfaces import ChatMessage, ModelError, ModelRequest
from runs.engine.models import make_provider
from runs.engine.tools.netguard import NetworkPolicy
from tests.engine.helpers import LOCAL

KEY = "sk-live-0123456789abcdefSECRET"
CHUNK = "data: " + json.dumps({"choices": [{"delta": {"content": "x" * 200}}]}) + "\n\n"


@dataclass
class Hostile:
    """A model server that misbehaves in each of the ways a hostile one can, on 127.0.0.1."""

    base: str = ""
    hits: list[str] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)

    def url(self, behaviour: str) -> str:
        return f"{self.base}/{behaviour}/v1"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        behaviour = request.match_info["behaviour"]
        self.hits.append(behaviour)
        self.authorizations.append(request.headers.get("Authorization", ""))
        if behaviour == "echo-key":
            echoed = f"Invalid key in {dict(request.headers)!r}. " + "Please try again. " * 500
            return web.json_response({"error": {"message": echoed}}, status=401)
        if behaviour == "redirect":
            raise web.HTTPTemporaryRedirect(f"{self.base}/listener/v1/chat/completions")
        response = web.StreamResponse(
            status=500 if behaviour == "huge-error" else 200,
            headers={"Content-Type": "text/event-stream"},
        )
        await response.prepare(request)
        while True:  # endless, drip and huge-error never end on their own
            if behaviour == "drip":
                await response.write(b":")
                await asyncio.sleep(0.05)
            else:
                await response.write(CHUNK.encode() * 50)


@pytest.fixture
async def hostile() -> AsyncIterator[Hostile]:
    server = Hostile()
    app = web.Application()
    app.router.add_post("/{behaviour}/v1/chat/completions", server.handle)
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()


def provider(base_url: str, network: NetworkPolicy = LOCAL, **limits):
    return make_provider(
        "openai", model="m", base_url=base_url, api_key=KEY, timeout_s=5, network=network,
        **limits,
    )  # fmt: skip


def request() -> ModelRequest:
    return ModelRequest("m", (ChatMessage("user", "hello"),))


async def failure(provider, within_s: float = 30.0) -> ModelError:
    started = time.monotonic()
    with pytest.raises(ModelError) as raised:
        await asyncio.wait_for(provider.complete(request()), within_s)
    assert time.monotonic() - started < within_s
    return raised.value


async def test_an_answer_that_streams_without_end_is_cut_off_at_the_size_cap(hostile: Hostile):
    error = await failure(provider(hostile.url("endless"), max_answer_bytes=2_000_000))
    assert "passed 2,000,000 bytes" in str(error) and error.transient is False


async def test_an_answer_that_drips_forever_is_cut_off_at_the_time_cap(hostile: Hostile):
    # Each byte arrives well within the read timeout; only the total time stops it.
    error = await failure(provider(hostile.url("drip"), max_answer_s=1.0), within_s=20)
    assert "longer than 1 s" in str(error) and error.transient is False


async def test_an_endless_error_body_is_cut_off_too(hostile: Hostile):
    error = await failure(provider(hostile.url("huge-error"), max_answer_bytes=1_000_000))
    assert "passed 1,000,000 bytes" in str(error)


async def test_an_upstream_error_that_echoes_the_key_is_shown_short_and_without_it(
    hostile: Hostile,
):
    error = await failure(provider(hostile.url("echo-key")))
    assert hostile.authorizations == [f"Bearer {KEY}"]  # it did have the key to echo
    shown = str(error)
    assert "HTTP 401" in shown and KEY not in shown and "0123456789abcdef" not in shown
    assert len(shown) <= 300


async def test_a_redirect_is_not_followed_so_the_key_stays_where_it_was_sent(hostile: Hostile):
    await failure(provider(hostile.url("redirect")))
    assert hostile.hits == ["redirect"]  # the listener it pointed at got nothing


async def test_a_private_address_is_refused_unless_allowed(hostile: Hostile):
    # A user's base URL gets the default policy: public addresses only.
    error = await failure(provider(hostile.url("endless"), network=NetworkPolicy()))
    assert "loopback" in str(error) and error.transient is False
    assert hostile.hits == []


async def test_a_name_that_resolves_to_a_private_address_is_refused_at_connect(hostile: Hostile):
    # The attacker's DNS answers 127.0.0.1 for a name: the guard resolves at connect time.
    rebinding = NetworkPolicy(resolver=lambda host, port: ["127.0.0.1"])
    port = hostile.base.rsplit(":", 1)[1]
    url = f"http://models.attacker.example:{port}/endless/v1"
    error = await failure(provider(url, network=rebinding))
    assert "Refused to connect to models.attacker.example (127.0.0.1)" in str(error)
    assert hostile.hits == []
    # The same name, allowed by the operator, does connect: it is the guard's resolver in use.
    allowed = NetworkPolicy.allowing(["models.attacker.example"], resolver=rebinding.resolver)
    await failure(provider(url, network=allowed, max_answer_bytes=10_000))
    assert hostile.hits == ["endless"]


async def test_a_key_bound_to_other_hosts_is_never_sent(hostile: Hostile):
    bound = provider(hostile.url("endless"), key_hosts=frozenset({"api.example.com"}))
    error = await failure(bound)
    assert "may only be sent to api.example.com" in str(error) and error.transient is False
    assert hostile.hits == []
