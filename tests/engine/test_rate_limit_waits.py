"""A model credential's rate limit: a call that finds no capacity waits for its slot, the wait
is a ``rate_limit.waiting`` event on the timeline, and it does not count against the agent's
deadline; a 429 pauses the credential for every caller until its Retry-After; headers saying
no requests are left pause it too."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

import pytest

from runs.engine.interfaces import ResolvedModel
from runs.engine.models import StaticModelRegistry, make_provider
from runs.engine.models.guard import exhausted_for_s
from runs.engine.ratelimits import Limit, LocalRateLimits
from tests.engine.helpers import LOCAL, run
from tests.factories import make_agent, make_spec
from tests.support.openai_server import Reply


def limited(
    server, limits: LocalRateLimits, limit: Limit, kind: str = "openai"
) -> StaticModelRegistry:
    provider = make_provider(kind, model="m", base_url=server.base_url,
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


def _in_s(seconds: float) -> str:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return when.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("budget", ["requests", "tokens"])
async def test_anthropic_headers_of_a_successful_answer_pause_the_credential(
    anthropic_server, budget
):
    # Anthropic's own headers on a 200: the key has nothing left until the reset time.
    headers = ((f"anthropic-ratelimit-{budget}-limit", "50"),
               (f"anthropic-ratelimit-{budget}-remaining", "0"),
               (f"anthropic-ratelimit-{budget}-reset", _in_s(30)))  # fmt: skip
    anthropic_server.on(lambda r: True, Reply.text("The last one for now", headers=headers))
    limits = LocalRateLimits()
    models = limited(anthropic_server, limits, Limit(), "anthropic")

    outcome, _ = await run(solo(), "hi", models=models)

    assert outcome.status == "succeeded", outcome.reason
    assert 20 < limits.paused_for("cred") <= 30


async def test_anthropic_headers_with_requests_left_do_not_pause(anthropic_server):
    headers = (("anthropic-ratelimit-requests-remaining", "49"),
               ("anthropic-ratelimit-requests-reset", _in_s(30)))  # fmt: skip
    anthropic_server.on(lambda r: True, Reply.text("Plenty left", headers=headers))
    limits = LocalRateLimits()

    outcome, _ = await run(
        solo(), "hi", models=limited(anthropic_server, limits, Limit(), "anthropic")
    )

    assert outcome.status == "succeeded" and limits.paused_for("cred") == 0


async def test_gemini_rate_limit_headers_of_a_successful_answer_pause_the_credential(
    gemini_server,
):
    # Google documents none on a 200; a gateway in front of Gemini sends OpenAI's.
    headers = (("x-ratelimit-remaining-tokens", "0"), ("x-ratelimit-reset-tokens", "3s"),
               ("x-ratelimit-remaining-requests", "7"))  # fmt: skip
    gemini_server.on(lambda r: True, Reply.text("The last one for now", headers=headers))
    limits = LocalRateLimits()

    outcome, _ = await run(solo(), "hi", models=limited(gemini_server, limits, Limit(), "gemini"))

    assert outcome.status == "succeeded", outcome.reason
    assert 2 < limits.paused_for("cred") <= 3


async def test_the_pause_from_headers_makes_the_next_run_wait_on_its_timeline(anthropic_server):
    headers = (("anthropic-ratelimit-requests-remaining", "0"),
               ("anthropic-ratelimit-requests-reset", _in_s(6)))  # fmt: skip
    first = lambda r: len(anthropic_server.log) == 1  # noqa: E731
    anthropic_server.on(first, Reply.text("one", headers=headers))
    anthropic_server.on(lambda r: True, Reply.text("two"))
    models = limited(anthropic_server, LocalRateLimits(), Limit(), "anthropic")

    await run(solo(), "first", models=models)
    outcome, sink = await run(solo(), "second", models=models)

    assert outcome.output == "two"
    [waiting] = sink.of("rate_limit.waiting")
    assert waiting.payload["paused"] is True and 0 < waiting.payload["wait_s"] <= 6


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
    # Both budgets dry: the later reset wins.
    assert exhausted_for_s({"x-ratelimit-remaining-requests": "0",
                            "x-ratelimit-reset-requests": "2s",
                            "x-ratelimit-remaining-tokens": "0",
                            "x-ratelimit-reset-tokens": "5s"}) == 5  # fmt: skip


def test_tokens_per_minute_space_calls_by_their_size() -> None:
    clock = [100.0]
    limits = LocalRateLimits(clock=lambda: clock[0])
    limit = Limit(tpm=6000)  # 100 tokens a second
    assert limits.reserve("cred", limit, 500) == 0
    assert limits.reserve("cred", limit, 10) == 5.0  # the 500 tokens take 5 s
    assert dataclasses.replace(limit, rpm=None).spacing_s(10) == (0.0, 0.1)
