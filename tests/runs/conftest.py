from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import close_other_db_connections


@pytest.fixture(scope="session", autouse=True)
def close_run_db_threads(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Executors and async tests use database connections on threads of their own; close
    them before the test database is dropped."""
    yield
    with django_db_blocker.unblock():
        close_other_db_connections()
