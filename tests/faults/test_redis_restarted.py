"""Redis (the broker and the channel layer) restarted while runs are in flight and watched:
every run finishes with no completed call made again, and every watcher, whose live stream
lost what Redis held, catches up from the database and sees every event exactly once."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.faults.test_web_restarted import stored_seqs
from tests.faults.watchers import Watcher
from tests.faults.web import WebProcess
from tests.faults.workload import (
    WORKER_ENV,
    answer_the_editors,
    assert_every_run_finished_whole,
    script,
    start_workload,
    until_in_flight,
)
from tests.runs.live import PrivateRedis, start_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


@pytest.fixture
def web(stack: PrivateRedis) -> Iterator[WebProcess]:
    web = WebProcess(stack)
    web.start()
    yield web
    web.stop()


async def test_runs_and_watchers_ride_out_a_redis_restart(
    openai_server: Any, stack: PrivateRedis, web: WebProcess
) -> None:
    script(openai_server, delay_s=1.0)
    worker = await asyncio.to_thread(start_worker, stack, "first", 8, **WORKER_ENV)
    try:
        workload = await sync_to_async(start_workload)(openai_server)
        watchers = [Watcher(lambda: web.url, run_id, workload.token) for run_id in workload.run_ids]
        watching = [asyncio.create_task(w.watch()) for w in watchers]

        await until_in_flight(openai_server, workload)
        await asyncio.to_thread(stack.restart)

        await sync_to_async(answer_the_editors)(workload)
        await asyncio.gather(*watching)
        await sync_to_async(assert_every_run_finished_whole)(openai_server, workload)
    finally:
        worker.stop()

    for watcher in watchers:
        assert watcher.seqs() == await sync_to_async(stored_seqs)(watcher.run_id)
