"""A webhook receiver is untrusted: one that drips its answer a byte at a time or sends an
endless body cannot hold the delivering thread past WEBHOOK_TIMEOUT_S, nor fill its memory.
Each attempt is recorded and the next one scheduled as for any receiver that fails."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest

from runs import webhooks
from runs.models import Run, Webhook, WebhookDelivery
from tests.factories import make_run_of, make_supervisor_team, make_user

pytestmark = pytest.mark.django_db(transaction=True)

Answer = Callable[[socket.socket, threading.Event], None]


def drip_headers(conn: socket.socket, stop: threading.Event) -> None:
    """A status line, then a header that never ends, a byte every 50 ms."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.wait(0.05):
        conn.sendall(b"a")


def endless_body(conn: socket.socket, stop: threading.Event) -> None:
    """Headers at once, then a body of 100 GB as fast as the client takes it."""
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\n")
    chunk = b"x" * 65536
    while not stop.is_set():
        conn.sendall(chunk)


def drip_body(conn: socket.socket, stop: threading.Event) -> None:
    conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 1000000\r\n\r\n")
    while not stop.wait(0.05):
        conn.sendall(b"x")


@contextmanager
def hostile_receiver(answer: Answer) -> Iterator[str]:
    stop = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)

    def handle(conn: socket.socket) -> None:
        # OSError: the client hung up, which is what a well-behaved client does here
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)  # the request (small enough to arrive at once)
            answer(conn, stop)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(5)
        server.close()


def deliver_once(url: str) -> tuple[WebhookDelivery, float]:
    """One delivery attempt on a thread of its own, as a worker makes it; fails (rather than
    hanging the test) if it is not over within 20 s."""
    team = make_supervisor_team(make_user())
    webhook = Webhook.objects.create(team=team, url=url, events=["finished"], secret="whsec_x")
    run = make_run_of(team, status=Run.Status.SUCCEEDED)
    delivery = str(uuid.uuid4())
    body = webhooks.delivery_body(run, "finished", delivery)
    started = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        attempt = pool.submit(
            webhooks.attempt_delivery, webhook.id, str(run.id), "finished", delivery, body, 1
        )
        record = attempt.result(timeout=20)
    return record, time.monotonic() - started


@pytest.fixture(autouse=True)
def impatient(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    settings.WEBHOOK_TIMEOUT_S = 1.0
    settings.RUN_EXECUTOR = "thread"
    # the retry it schedules is not this test's business
    monkeypatch.setattr(webhooks, "enqueue_attempt", lambda *args, **kwargs: None)


def test_a_receiver_that_drips_its_headers_is_cut_off_at_the_timeout() -> None:
    with hostile_receiver(drip_headers) as url:
        record, took = deliver_once(url)
    assert took < 5
    assert not record.ok and record.status_code is None
    assert "did not answer within 1 s" in record.error
    assert record.next_retry_at is not None  # tried again later, like any timeout


def test_an_endless_body_is_never_read() -> None:
    with hostile_receiver(endless_body) as url:
        record, took = deliver_once(url)
    assert took < 5
    assert (record.ok, record.status_code) == (True, 200)


def test_a_slowly_dripped_error_body_does_not_hold_the_attempt() -> None:
    with hostile_receiver(drip_body) as url:
        record, took = deliver_once(url)
    assert took < 5
    assert (record.ok, record.status_code) == (False, 500)
