import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.browser import close_other_db_connections
from tests.runs.live import PrivateRedis, Worker, settings_for, start_worker, use_broker


@pytest.fixture(scope="session", autouse=True)
def close_run_db_threads(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Executors and async tests use database connections on threads of their own; close
    them before the test database is dropped."""
    yield
    with django_db_blocker.unblock():
        close_other_db_connections()


# --- the production stack as processes (tests/runs/live.py) ------------------------------


@pytest.fixture
def redis() -> Iterator[PrivateRedis]:
    """A redis-server of the test's own."""
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.remove()


@pytest.fixture
def stack(redis: PrivateRedis, settings: Any) -> Iterator[PrivateRedis]:
    """This process enqueues runs on Celery through the private Redis."""
    for name, value in settings_for(redis).items():
        setattr(settings, name, value)
    with use_broker(redis):
        yield redis


@pytest.fixture
async def worker(stack: PrivateRedis) -> AsyncIterator[Worker]:
    """A Celery worker process on the stack."""
    worker = await asyncio.to_thread(start_worker, stack, "first")
    yield worker
    worker.stop()
