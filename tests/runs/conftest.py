from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection


@pytest.fixture(scope="session", autouse=True)
def close_run_db_threads(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Executors and async tests use database connections on threads of their own; close
    them before the test database is dropped."""
    yield
    from runs.sink import close_db_connections

    with django_db_blocker.unblock():
        close_db_connections()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
