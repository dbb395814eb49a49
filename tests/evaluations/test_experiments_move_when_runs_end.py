"""An experiment takes its next items as soon as runs end, not at its next poll: on a real
Celery worker whose poll is five minutes, three waves of items still finish (each round of
runs that end nudges the experiment one step)."""

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import Run
from tests.evaluations.test_experiments_on_celery import experiment_of, finished
from tests.factories import minimal_spec
from tests.runs.live import PrivateRedis, start_worker

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


async def test_the_next_items_start_when_runs_end_without_waiting_for_the_poll(
    stack: PrivateRedis, settings: Any
) -> None:
    settings.EXPERIMENT_POLL_S = 300  # here and on the worker: the chain moves it once
    worker = await asyncio.to_thread(start_worker, stack, "first", EXPERIMENT_POLL_S="300")
    try:
        client, experiment_id = await sync_to_async(experiment_of)(
            minimal_spec(), 6, [{"kind": "contains"}], 2
        )
        read = await sync_to_async(finished)(client, experiment_id, 150)
    finally:
        worker.stop()
    assert read["status"] == "finished" and read["progress"]["done"] == 6
    runs = Run.objects.filter(started_by=f"experiment:{experiment_id}", status="succeeded")
    assert await runs.acount() == 6
