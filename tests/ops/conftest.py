"""Fixtures of the ops tests: an OTLP/HTTP collector, and SQLite that does not lock up.

Webhook deliveries in the embedded default write from timer threads while a test reads.
The test database is then SQLite's shared-cache in-memory database, whose readers take table
locks that make a concurrent writer fail at once with "database table is locked" (production's
file database in WAL mode waits instead). Readers that take no table locks avoid that."""

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection
from django.db.backends.signals import connection_created
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from runs import telemetry
from tests.runs.conftest import close_run_db_threads  # noqa: F401 - runs execute here too


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


@pytest.fixture
def collector() -> Iterator[tuple[str, list[Any]]]:
    """An OTLP/HTTP collector: decodes every export request into its spans."""
    spans: list[Any] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    spans.extend(scope_spans.spans)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", spans
    server.shutdown()
    server.server_close()


@pytest.fixture
def otel_on(collector: tuple[str, list[Any]], settings: Any) -> Iterator[list[Any]]:
    endpoint, spans = collector
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = endpoint
    telemetry.tracer_provider.cache_clear()
    yield spans
    telemetry.tracer_provider().shutdown()
    telemetry.tracer_provider.cache_clear()
