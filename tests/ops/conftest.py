"""Webhook deliveries in the embedded default write from timer threads while a test reads.
The test database is then SQLite's shared-cache in-memory database, whose readers take table
locks that make a concurrent writer fail at once with "database table is locked" (production's
file database in WAL mode waits instead). Readers that take no table locks avoid that."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.backends.signals import connection_created


def _read_without_table_locks(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.cursor().execute("PRAGMA read_uncommitted = true")


@pytest.fixture(autouse=True)
def sqlite_readers_do_not_lock(request: pytest.FixtureRequest) -> Iterator[None]:
    connection_created.connect(_read_without_table_locks)
    uses_db = request.node.get_closest_marker("django_db") is not None
    if uses_db and connection.vendor == "sqlite" and connection.connection is not None:
        _read_without_table_locks(None, connection)  # the test's own, opened before
    yield
    connection_created.disconnect(_read_without_table_locks)
