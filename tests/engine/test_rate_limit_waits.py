"""A model credential's rate limit: a call that finds no capacity waits for its slot, the wait
is a ``rate_limit.waiting`` event on the timeline, and it does not count against the agent's
deadline; a 429 pauses the credential for every caller until its Retry-After; headers saying
no requests are left pause it too."""

from __future__ import annotations

import asyncio
import dataclasses

from runs.engine.interfaces import ResolvedModel
from runs.engine.models import StaticModelRegistry, make_provider
from runs.engine.models.guard import exhausted_for_s
from runs.engine.ratelimits import Limit, LocalRateLimits
from tests.engine.helpers import LOCAL, run
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply


def limited(openai_server, limits: LocalRateLimits, limit: Limit) -> StaticModelRegistry:
    provider = make_provider("openai", model="m", base_url=openai_server.base_url,
                             api_key="k", network=LOCAL)  # fmt: skip
    model = ResolvedModel("limited", provider, "m", rate_limit=limits.limiter("cred", limit))
    return StaticModelRegistry({"limited": model})


def solo(timeout_s: float = 120.0, max_retries: int = 2):
    limits = {"timeout_s": timeout_s, "max_retries": max_retries}
    return make_spec("supervisor", [make_agent("solo", model="limited", limits=limits)])


async def test_a_wait_longer_than_the_deadline_is_shown_and_does_not_fail_the_agent(
    openai_server,
):
    openai_server.on(lambda r: True, Reply.text("Answered after waiting"))
    limits = LocalRateLimits()
    limit = Limit(rpm=40)  # one call every 1.5 s
    assert limits.reserve("cred", limit, 1) == 0  # another run just took the slot

    outcome, sink = await run(
        solo(timeout_s=1.0), "hi", models=limited(openai_server, limits, limit)
    )

    assert outcome.status == "succeeded", outcome.reason
    assert outcome.output == "Answered after waiting"
    [waiting] = sink.of("rate_limit.waiting")
    assert 1.0 < waiting.payload["wait_s"] <= 1.5
    assert waiting.payload["activity_key"] == "run/solo/t1/model"
    assert waiting.payload["model"] == "limited" and waiting.payload["paused"] is False
    # The wait came before the call, on the agent's span.
    assert waiting.agent == "solo"


async def test_a_429_pauses_the_credential_for_every_caller(openai_server):
    first_of_a = lambda r: r.user == "run A" and r.attempt == 1  # noqa: E731
    openai_server.on(first_of_a, Reply.error(429, headers=(("Retry-After", "2"),)))
    openai_server.on(lambda r: True, Reply.text("Answered"))
    limits = LocalRateLimits()
    models = limited(openai_server, limits, Limit())

    async def run_b_after_the_429():
        while not any(r.status == 429 for r in openai_server.log):
            await asyncio.sleep(0.01)
        return await run(solo(), "run B", models=models)

    (a, _), (b, b_sink) = await asyncio.gather(run(solo(), "run A", models=models),
                                               run_b_after_the_429())  # fmt: skip

    assert a.status == "succeeded" and b.status == "succeeded"
    # B did not ask the server while the credential was paused: it waited, on its timeline.
    [waiting] = b_sink.of("rate_limit.waiting")
    assert waiting.payload["paused"] is True and 1.0 < waiting.payload["wait_s"] <= 2.0
    assert [r.status for r in openai_server.log] == [429, 200, 200]


async def test_no_requests_left_in_the_headers_pauses_the_credential(openai_server):
    headers = (("x-ratelimit-remaining-requests", "0"), ("x-ratelimit-reset-requests", "3s"))
    openai_server.on(lambda r: True, Reply.text("The last one for now", headers=headers))
    limits = LocalRateLimits()

    outcome, _ = await run(solo(), "hi", models=limited(openai_server, limits, Limit()))

    assert outcome.status == "succeeded"
    assert 2 < limits.paused_for("cred") <= 3


def test_the_providers_rate_limit_headers_are_read() -> None:
    assert exhausted_for_s({"x-ratelimit-remaining-requests": "0",
                            "x-ratelimit-reset-requests": "1m30s"}) == 90  # fmt: skip
    assert exhausted_for_s({"x-ratelimit-remaining-requests": "0",
                            "x-ratelimit-reset-requests": "250ms"}) == 0.25  # fmt: skip
    assert exhausted_for_s({"x-ratelimit-remaining-requests": "3",
                            "x-ratelimit-reset-requests": "1s"}) is None  # fmt: skip
    assert exhausted_for_s({"anthropic-ratelimit-requests-remaining": "0",
                            "anthropic-ratelimit-requests-reset": "2000-01-01T00:00:00Z"}) is None  # fmt: skip
    assert exhausted_for_s({"x-ratelimit-remaining-requests": "0",
                            "x-ratelimit-reset-requests": "soon"}) is None  # fmt: skip
    assert exhausted_for_s({"x-ratelimit-remaining-requests": "0",
                            "x-ratelimit-reset-requests": "99h"}) == 120  # fmt: skip


def test_tokens_per_minute_space_calls_by_their_size() -> None:
    clock = [100.0]
    limits = LocalRateLimits(clock=lambda: clock[0])
    limit = Limit(tpm=6000)  # 100 tokens a second
    assert limits.reserve("cred", limit, 500) == 0
    assert limits.reserve("cred", limit, 10) == 5.0  # the 500 tokens take 5 s
    assert dataclasses.replace(limit, rpm=None).spacing_s(10) == (0.0, 0.1)
