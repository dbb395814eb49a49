"""A Celery worker killed with -9 while runs are in flight (a tool called, a fan-out to three
workers and a nested team open, a person's answer awaited): every run finishes, on a worker
that was already running or on the first one to start, with no completed model or tool call
made again, no event lost or doubled, and every chain verifying."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import Run
from tests.faults.workload import (
    WORKER_ENV,
    answer_the_editors,
    assert_every_run_finished_whole,
    in_flight_with_editors_waited_for,
    script,
    start_workload,
    until_in_flight,
)
from tests.runs.live import PrivateRedis, Worker, start_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def holder_pids(run_ids: list[str]) -> set[int]:
    claims = Run.objects.filter(id__in=run_ids).values_list("claimed_by", flat=True)
    return {int(claim.split(":")[1]) for claim in claims if claim}


async def test_runs_of_a_killed_worker_finish_on_the_worker_still_live(
    openai_server: Any, stack: PrivateRedis
) -> None:
    script(openai_server, delay_s=1.0)
    # Only the survivors' sweeps can bring the runs back: the broker redelivers after an hour.
    workers: list[Worker] = []
    try:
        for name in ("first", "second"):
            workers.append(
                await asyncio.to_thread(
                    start_worker, stack, name, 8, CELERY_VISIBILITY_TIMEOUT="3600", **WORKER_ENV
                )
            )
        workload = await sync_to_async(start_workload)(openai_server)

        await until_in_flight(openai_server, workload)
        held = await sync_to_async(holder_pids)(list(workload.desk))
        victim = next(w for w in workers if w.process.pid in held)
        victim.kill_hard()

        await sync_to_async(answer_the_editors)(workload)
        await sync_to_async(assert_every_run_finished_whole)(openai_server, workload)
    finally:
        for worker in workers:
            worker.stop()


async def test_runs_of_a_killed_worker_wait_for_the_next_worker_to_start(
    openai_server: Any, stack: PrivateRedis
) -> None:
    script(openai_server, delay_s=1.0)
    worker = await asyncio.to_thread(start_worker, stack, "first", 8, **WORKER_ENV)
    replacement = None
    try:
        workload = await sync_to_async(start_workload)(openai_server)
        # The approval runs' wait is recorded with their status at the end of an execution:
        # killed before that commit, they would stay "running" until a worker starts, and
        # could not be answered while none is.
        await sync_to_async(in_flight_with_editors_waited_for)(openai_server, workload)
        worker.kill_hard()

        # No worker at all for a while: the runs stay running (nothing can fail them), and
        # the person's answers wait in the broker.
        await asyncio.sleep(4)
        calls_while_dead = len(openai_server.log)
        await sync_to_async(answer_the_editors)(workload)
        await asyncio.sleep(1)
        assert len(openai_server.log) == calls_while_dead

        replacement = await asyncio.to_thread(start_worker, stack, "second", 8, **WORKER_ENV)
        await sync_to_async(assert_every_run_finished_whole)(openai_server, workload)
    finally:
        worker.stop()
        if replacement is not None:
            replacement.stop()
