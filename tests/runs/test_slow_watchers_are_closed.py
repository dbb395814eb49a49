"""A watcher that reads slower than its run writes is closed with code 4008 before the web
process holds much for it, and, connecting again after the last seq it read, gets every
event of the run exactly once. A real daphne process and a real websocket client whose
socket takes little at a time (a small SO_RCVBUF) and which stops reading for a while."""

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from runs.chain import ChainHead
from runs.consumers import CLOSE_TOO_SLOW
from runs.engine.events import Event
from runs.models import Run, RunEvent
from runs.shell.sink import RunSink
from teams.models import ApiToken
from tests.factories import make_run
from tests.faults.web import WebProcess
from tests.runs.live import PrivateRedis

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]

LIMIT = 256 * 1024
EVENTS = 5000
FILLER = "x" * 5000  # 5,000 events of about 5 KB: 25 MB the watcher does not read


@pytest.fixture
def web(stack: PrivateRedis) -> Iterator[WebProcess]:
    web = WebProcess(stack)
    # A long grace, so the client, back from its pause, reads the close frame on a machine
    # as slow as this shared one.
    web.start(
        WATCHER_MAX_BACKLOG_BYTES=str(LIMIT),
        WATCHER_BACKLOG_WAIT_S="0.5",
        WATCHER_CLOSE_GRACE_S="120",
    )
    yield web
    web.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for process {pid}")


async def open_socket(web: WebProcess, run: Run, token: str, after_seq: int) -> ClientConnection:
    # The client's kernel buffer takes 4 KiB at a time, and websockets queues one message
    # before it stops reading the socket: what the client does not read waits on the server.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", web.port))
    sock.setblocking(False)
    client = await connect(
        f"{web.url}/ws/runs/{run.id}/",
        sock=sock,
        additional_headers=[("Authorization", f"Bearer {token}")],
        max_queue=1,
        max_size=None,
        open_timeout=30,
    )
    await client.send(json.dumps({"type": "subscribe", "after_seq": after_seq}))
    return client


def message(n: int) -> Event:
    payload = {"n": n, "content": FILLER}
    return Event(type="message", key=f"m{n}", ts=0.0, agent="writer", payload=payload)


async def emit(run: Run, count: int) -> None:
    sink = RunSink(run, ChainHead())
    for start in range(0, count, 100):
        await asyncio.gather(
            *(sink.emit(message(n)) for n in range(start, min(count, start + 100)))
        )
    await sink.close()


async def read(client: ClientConnection, seqs: list[int], until_seq: int | None) -> int | None:
    """Read events into ``seqs`` until ``until_seq`` or the server closes; the close code."""
    try:
        while until_seq is None or not seqs or seqs[-1] < until_seq:
            message = json.loads(await asyncio.wait_for(client.recv(), 30))
            if message["type"] == "events":
                seqs += [e["seq"] for e in message["events"]]
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        return None  # nothing more came, and the connection stayed open
    return None


async def test_a_watcher_that_reads_too_slowly_is_closed_and_catches_up_once(
    alice: Any, web: WebProcess
) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    token = (await sync_to_async(ApiToken.issue)(alice, "watcher"))[1]
    assert web.process is not None
    # The watcher subscribes, then stops reading while the run writes 25 MB of events.
    slow = await open_socket(web, run, token, after_seq=0)
    await asyncio.sleep(1)
    before = rss_kib(web.process.pid)
    await emit(run, EVENTS)
    await asyncio.sleep(2)  # what the layer carries reaches daphne
    growth_kib = rss_kib(web.process.pid) - before

    # It reads again: the events queued before the close, then the close code.
    seqs: list[int] = []
    code = await read(slow, seqs, until_seq=None)
    assert code == CLOSE_TOO_SLOW, f"not closed for reading too slowly; got {len(seqs)} events"
    assert len(seqs) < EVENTS
    # What the server kept for it was bounded by the limit, not by the run: it had sent
    # little more than the limit (and what the kernels' buffers hold) before closing.
    assert len(seqs) * len(FILLER) < LIMIT + 4 * 1024 * 1024
    # Without the limit daphne grew by 27 MB here, all of it queued for this watcher.
    assert growth_kib < 12 * 1024, f"daphne grew by {growth_kib} KiB"

    # Connecting again after the last seq it holds, now reading steadily, it gets the rest:
    # every event once.
    again = await open_socket(web, run, token, after_seq=seqs[-1] if seqs else 0)
    code = await read(again, seqs, until_seq=EVENTS)
    await again.close()
    assert code is None, f"closed again ({code}) while reading steadily"
    assert seqs == list(range(1, EVENTS + 1))
    stored = await sync_to_async(RunEvent.objects.filter(run=run).count)()
    assert stored == EVENTS
