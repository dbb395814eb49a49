"""The web process (daphne) restarted while people watch runs in flight: their websockets
drop, they connect again, and each sees every event of its run exactly once, in order."""

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import RunEvent
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


def stored_seqs(run_id: str) -> list[int]:
    return list(
        RunEvent.objects.filter(run_id=run_id).order_by("seq").values_list("seq", flat=True)
    )


async def test_watchers_of_a_restarted_web_process_reconnect_and_see_every_event_once(
    openai_server: Any, stack: PrivateRedis, web: WebProcess
) -> None:
    script(openai_server, delay_s=1.0)
    worker = await asyncio.to_thread(start_worker, stack, "first", 8, **WORKER_ENV)
    try:
        workload = await sync_to_async(start_workload)(openai_server)
        # Two people watch each run.
        watchers = [
            Watcher(lambda: web.url, run_id, workload.token)
            for run_id in workload.run_ids
            for _ in range(2)
        ]
        watching = [asyncio.create_task(w.watch()) for w in watchers]

        await until_in_flight(openai_server, workload)
        await asyncio.to_thread(web.stop)
        await asyncio.sleep(1)  # events go on being stored while nobody can watch
        await asyncio.to_thread(web.start)

        await sync_to_async(answer_the_editors)(workload)
        await asyncio.gather(*watching)
        await sync_to_async(assert_every_run_finished_whole)(openai_server, workload)
    finally:
        worker.stop()

    for watcher in watchers:
        assert watcher.connections >= 2  # the restart did drop it
        assert watcher.seqs() == await sync_to_async(stored_seqs)(watcher.run_id)
