"""The model server misbehaving under a workload in flight on a real worker: a stream cut off
mid-answer, a call that hangs, an answer that is not the protocol. A broken stream and a
malformed event are retried; a hung call is cut off and its agent fails, which its supervisor
routes around; the runs finish, and no call that completed properly is made again. A server that keeps answering garbage fails the run
with a reason a person can act on."""

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import RunEvent
from tests.faults.workload import (
    WORKER_ENV,
    Fault,
    answer_the_editors,
    assert_every_run_finished_whole,
    case_of,
    role_of,
    script,
    start_workload,
    wait_for,
)
from tests.runs.helpers import assert_sound_trail
from tests.runs.live import PrivateRedis, start_worker
from tests.support.openai_server import ChatRequest, Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

HALF_AN_ANSWER = "data: " + json.dumps(
    {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Half an ans"},
                  "finish_reason": None}]}
) + "\n\n"  # fmt: skip
HANG = Reply.text("Too late.", delay_s=60)
GARBAGE = ("data: <html>502 Bad Gateway</html>\n\n", "data: [DONE]\n\n")


def first_attempt_of(*roles: str, reply: Reply) -> Fault:
    """The fault for the first attempt of these agents' calls: two calls, one per case. (Five
    retryable failures in a row open the model's circuit, MODEL_CIRCUIT_FAILURES, and the
    runs then fail at once: a fault at more agents made these tests fail for that reason.)"""
    return lambda r: reply if role_of(r) in roles and r.attempt == 1 else None


async def run_workload_through(openai_server: Any, stack: PrivateRedis, fault: Fault) -> None:
    faulted = script(openai_server, delay_s=0.3, fault=fault)
    env = {**WORKER_ENV, "MODEL_ANSWER_MAX_S": "3"}
    worker = await asyncio.to_thread(start_worker, stack, "first", 8, **env)
    try:
        workload = await sync_to_async(start_workload)(openai_server)
        await sync_to_async(answer_the_editors)(workload)
        await sync_to_async(assert_every_run_finished_whole)(openai_server, workload, faulted)
    finally:
        worker.stop()
    assert faulted, "the fault never struck"


async def test_a_stream_cut_mid_answer_is_asked_again(
    openai_server: Any, stack: PrivateRedis
) -> None:
    cut = Reply.stream(HALF_AN_ANSWER)  # then the connection closes: no finish, no [DONE]
    await run_workload_through(openai_server, stack, first_attempt_of("writer", reply=cut))


async def test_a_call_that_hangs_is_cut_off_and_the_supervisor_goes_on_without_it(
    openai_server: Any, stack: PrivateRedis
) -> None:
    # A call cut off at MODEL_ANSWER_MAX_S is final, not retried (runs/engine/models/guard.py:
    # a server that never ends would otherwise hold the run max_retries times as long): the
    # analyst fails, its supervisor is told, and the run finishes without it.
    faulted = script(
        openai_server, delay_s=0.3, fault=lambda r: HANG if role_of(r) == "analyst" else None
    )
    env = {**WORKER_ENV, "MODEL_ANSWER_MAX_S": "3"}
    worker = await asyncio.to_thread(start_worker, stack, "first", 8, **env)
    try:
        workload = await sync_to_async(start_workload)(openai_server)
        await sync_to_async(answer_the_editors)(workload)
        for run_id in workload.run_ids:
            run = await sync_to_async(wait_for)(run_id, "succeeded", "failed")
            assert run.status == "succeeded", run.failure_reason
            await sync_to_async(assert_sound_trail)(run)
        errors = await sync_to_async(
            lambda: [e.payload["message"] for e in RunEvent.objects.filter(type="error")]
        )()
    finally:
        worker.stop()
    told = [e for e in errors if "The supervisor was told" in e]
    assert len(told) == len(workload.desk), errors
    assert all("took longer than 3 s" in e for e in told), told
    assert [r.attempt for r in faulted] == [1] * len(workload.desk)  # not asked again
    assert_no_call_made_twice_at_all(openai_server, faulted)


def assert_no_call_made_twice_at_all(server: Any, faulted: list[ChatRequest]) -> None:
    answers = [r for r in server.completed() if not any(r is f for f in faulted)]
    completed = Counter((case_of(r), r.activity_key) for r in answers)
    assert {k: n for k, n in completed.items() if n > 1} == {}


async def test_an_answer_that_is_not_the_protocol_is_asked_again(
    openai_server: Any, stack: PrivateRedis
) -> None:
    garbage = Reply.stream(*GARBAGE)
    await run_workload_through(openai_server, stack, first_attempt_of("clerk", reply=garbage))


async def test_an_agent_whose_calls_keep_getting_garbage_fails_its_run_and_says_why(
    openai_server: Any, stack: PrivateRedis
) -> None:
    def garbage_to_the_drafter(request: ChatRequest) -> Reply | None:
        return Reply.stream(*GARBAGE) if role_of(request) == "draft" else None

    script(openai_server, delay_s=0.1, fault=garbage_to_the_drafter)
    worker = await asyncio.to_thread(start_worker, stack, "first", 8, **WORKER_ENV)
    try:
        workload = await sync_to_async(start_workload)(openai_server, 1)
        (approval,) = workload.approval
        run = await sync_to_async(wait_for)(approval, "succeeded", "failed", "waiting")
        assert run.status == "failed"
        assert "malformed" in run.failure_reason and "502 Bad Gateway" in run.failure_reason
        # The other run, on the same server, is not affected.
        (desk,) = workload.desk
        run = await sync_to_async(wait_for)(desk, "succeeded", "failed")
        assert run.status == "succeeded", run.failure_reason
    finally:
        worker.stop()
    # The first call and its two retries (AgentLimits.max_retries), then no more.
    drafts = [r.attempt for r in openai_server.log if role_of(r) == "draft"]
    assert drafts == [1, 2, 3]
