"""Watchers: many websocket watchers on one daphne process while a run emits events.

What it measures, on this machine:
  1. memory per idle watcher: the daphne process's resident memory before the watchers
     connect and once every one has subscribed (and received the run's first event),
     divided by their number;
  2. latency: the run's sink appends ``--rate`` events/s for ``--seconds``; p50/p99 from the
     append (the time the event is made, before it is stored) to each watcher's receipt
     (one clock: every process runs here);
  3. none lost: every watcher checks it receives every seq once and in order (it stops the
     benchmark otherwise) and counts them;
  4. the daphne process's CPU time while the run emits, and per frame and watcher (what does
     not move with the machine's load, as the latency does).

The server path is the production one: the RunSink (stores each batch, then publishes to the
RedisPubSubChannelLayer), one daphne process with the RunConsumer, real websocket clients
authenticated with a bearer token. The per-person websocket quotas are raised for the
benchmark's one user.

The watchers must not be what is measured, and they share the machine's cores with daphne:
they run in ``--client-processes`` processes on uvloop, each a minimal websocket client on a
raw asyncio protocol (frames parsed by hand, pings answered). A text frame is parsed with
``json.loads`` once per process and remembered by its exact bytes, so a thousand watchers
receiving the same frame cost one parse; every watcher still checks the seqs of every frame
it receives (once, in order) and takes its own receipt time. A watcher is ready once it has
received the run's first event (emitted before the watchers connect), so every one is
subscribed before the measured events start.

Reproduce (PostgreSQL and Redis running; the same variables as benchmarks/streaming.py):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    CHANNEL_LAYER_PREFIX=bench .venv/bin/python benchmarks/watchers.py \\
    [--watchers 1000] [--rate 200] [--seconds 10] [--client-processes 2]
The last line is {"watchers", "rate", "p50_ms", "p99_ms", "lost", "idle_kib_per_watcher"}.
"""

from __future__ import annotations

import argparse
import array
import asyncio
import base64
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

# The benchmarks folder is not a package: import its neighbour by path.
from streaming import (
    append_paced,
    event,
    free_port,
    make_run,
    percentile,
    setup_django,
    start_daphne,
)

CONNECTING_AT_ONCE = (
    20  # handshakes in flight per client process (daphne listens with a backlog of 50)
)


def cpu_s(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise SystemExit(f"no VmRSS for process {pid}")


# --- the watchers (separate processes) ----------------------------------------------------


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (payloads under 126 bytes: a subscription, a pong)."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class Watcher(asyncio.Protocol):
    """One websocket watcher: subscribes after seq 0, checks every seq it receives, and notes
    when each frame arrived (with the parsed frame, shared by every watcher of the process)."""

    def __init__(self, request: bytes, total: int, parsed: dict[bytes, Any]) -> None:
        self.request, self.total, self.parsed = request, total, parsed
        self.buffer = bytearray()
        self.open = False
        self.seen = 0
        self.receipts: list[tuple[float, tuple[float, ...]]] = []
        self.fragments: list[bytes] = []
        self.ready = asyncio.get_running_loop().create_future()
        self.done = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(f"connection lost after seq {self.seen}: {exc}")

    def fail(self, reason: str) -> None:
        for future in (self.ready, self.done):
            if not future.done():
                future.set_exception(SystemExit(reason))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.open:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if b" 101 " not in self.buffer[: self.buffer.find(b"\r\n")]:
                self.fail(f"handshake refused: {bytes(self.buffer[:200])!r}")
                return
            del self.buffer[: end + 4]
            self.open = True
            self.transport.write(client_frame(1, b'{"type":"subscribe","after_seq":0}'))
        while self.frame(now):
            pass

    def frame(self, now: float) -> bool:
        """Take one frame off the buffer, if it holds a whole one."""
        buffer = self.buffer
        if len(buffer) < 2:
            return False
        fin, opcode, length, start = buffer[0] & 0x80, buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return False
            length, start = struct.unpack_from("!H", buffer, 2)[0], 4
        elif length == 127:
            if len(buffer) < 10:
                return False
            length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < start + length:
            return False
        payload = bytes(buffer[start : start + length])
        del buffer[: start + length]
        if opcode == 9:
            self.transport.write(client_frame(10, payload))
        elif opcode == 8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
            self.fail(f"closed with {code} after seq {self.seen}")
        elif opcode in (0, 1):
            self.fragments.append(payload)
            if fin:
                self.message(b"".join(self.fragments), now)
                self.fragments = []
        return True

    def message(self, text: bytes, now: float) -> None:
        frame = self.parsed.get(text)
        if frame is None:
            message = json.loads(text)
            events = message.get("events", []) if message.get("type") == "events" else []
            seqs = tuple(e["seq"] for e in events)
            times = tuple(e["payload"]["t"] for e in events if e["payload"]["phase"] == "latency")
            frame = self.parsed[text] = (seqs, times)
        seqs, times = frame
        if not seqs:
            return
        if seqs != tuple(range(self.seen + 1, self.seen + 1 + len(seqs))):
            self.fail(f"watcher saw seqs {seqs[0]}..{seqs[-1]} after {self.seen}")
            return
        self.seen = seqs[-1]
        if times:
            self.receipts.append((now, times))
        if not self.ready.done():
            self.ready.set_result(None)
        if self.seen >= self.total and not self.done.done():
            self.done.set_result(None)
            self.transport.close()


async def watch(url: str, token: str, count: int, total: int, out: str) -> None:
    """``count`` watchers of ``url``; "ready" once every one holds seq 1, then once each has
    ``total`` events, the latencies (float32 ms) to ``out`` and the received counts."""
    parts = urlsplit(url)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    parsed: dict[bytes, Any] = {}
    loop = asyncio.get_running_loop()
    connecting = asyncio.Semaphore(CONNECTING_AT_ONCE)

    async def one() -> Watcher:
        async with connecting:
            _, watcher = await loop.create_connection(
                lambda: Watcher(request, total, parsed), parts.hostname, parts.port
            )
            await asyncio.wait_for(watcher.ready, 120)
        return watcher

    watchers = await asyncio.gather(*(one() for _ in range(count)))
    print("ready", flush=True)
    await asyncio.gather(*(w.done for w in watchers))
    latencies = array.array("f")
    for watcher in watchers:
        for now, times in watcher.receipts:
            latencies.extend((now - t) * 1000 for t in times)
    Path(out).write_bytes(latencies.tobytes())
    print(json.dumps([[w.seen, len(w.receipts)] for w in watchers]), flush=True)


def run_clients(argv: list[str]) -> None:
    url, token, count, total, out = argv
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - no wheel for this platform
        pass
    asyncio.run(watch(url, token, int(count), int(total), out))


# --- the run ----------------------------------------------------------------------------


async def drive(
    run: Any,
    rate: int,
    seconds: float,
    clients: list[subprocess.Popen[str]],
    mark: Callable[[str], None],
) -> None:
    """Emit the run's first event, wait until every watcher holds it, ``mark("idle")`` (the
    readings), emit at ``rate``, then ``mark("loaded")``."""
    from runs.chain import ChainHead
    from runs.shell.sink import RunSink

    sink = RunSink(run, ChainHead())
    await sink.emit(event(0, "ready"))
    for client in clients:
        assert client.stdout is not None
        line = await asyncio.to_thread(client.stdout.readline)
        if line.strip() != "ready":
            raise SystemExit("the watchers did not connect")
    await asyncio.sleep(2)  # let daphne settle before the reading and the load
    mark("idle")
    print(f"every watcher holds the first event; emitting {rate} events/s", flush=True)
    await append_paced(sink, rate, seconds)
    await sink.close()
    mark("loaded")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--clients", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.clients:
        run_clients(args.clients)
        return
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("Set REDIS_URL (and DATABASE_URL): this measures the channels-redis path.")
    # A socket per watcher on both sides, inherited by daphne and the watchers' processes.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.environ["QUOTA_WEBSOCKET_CONNECTS"] = f"{args.watchers * 10}/minute"
    os.environ["QUOTA_WEBSOCKET_SUBSCRIBES"] = f"{args.watchers * 10}/minute"

    setup_django()
    run, token = make_run()
    port = free_port()
    paced = args.rate // 100 * int(args.seconds / 0.01)
    total = 1 + paced  # the first event, then the measured ones
    server = start_daphne(port)
    time.sleep(2)  # let it settle before the first reading
    idle_before = rss_kb(server.pid)
    shares = [args.watchers // args.client_processes] * args.client_processes
    shares[0] += args.watchers - sum(shares)
    outs = [tempfile.mkstemp(prefix="watchers-")[1] for _ in shares]
    url = f"ws://127.0.0.1:{port}/ws/runs/{run.id}/"
    clients = [
        subprocess.Popen(
            [sys.executable, __file__, "--clients", url, token, str(n), str(total), out],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n, out in zip(shares, outs, strict=True)
    ]
    readings: dict[str, tuple[int, float, float]] = {}

    def mark(when: str) -> None:
        readings[when] = (rss_kb(server.pid), cpu_s(server.pid), time.monotonic())

    try:
        asyncio.run(drive(run, args.rate, args.seconds, clients, mark))
        received: list[list[int]] = []
        for client in clients:
            assert client.stdout is not None
            received += json.loads(client.stdout.readline())
            client.wait(timeout=120)
    finally:
        for client in clients:
            client.kill()
        server.terminate()
        server.wait(timeout=10)
    run.delete()
    latencies: list[float] = []
    for out in outs:
        latencies += array.array("f", Path(out).read_bytes()).tolist()
        os.unlink(out)

    figures = {
        "watchers": args.watchers,
        "rate": args.rate,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "lost": sum(total - n for n, _ in received),
        "idle_kib_per_watcher": round((readings["idle"][0] - idle_before) / args.watchers, 1),
    }
    print(
        f"{args.watchers} watchers on one daphne process, {args.rate} events/s for {args.seconds:g} s "
        f"(load average {os.getloadavg()[0]:.2f})"
    )
    print(
        f"latency append -> receipt: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms (target p99 < 100 ms)"
    )
    frames = statistics.mean(f for _, f in received)
    print(
        f"frames per watcher: {frames:.0f} ({frames / args.seconds:.1f}/s, {paced / frames:.1f} events each)"
    )
    print(f"events lost: {figures['lost']} of {total} per watcher (each checked its seqs in order)")
    cpu = readings["loaded"][1] - readings["idle"][1]
    wall = readings["loaded"][2] - readings["idle"][2]
    per_frame = cpu / (frames * args.watchers) * 1e6
    print(
        f"daphne CPU while emitting: {cpu:.1f} s in {wall:.1f} s ({cpu / wall:.0%} of one core; "
        f"{per_frame:.0f} µs per frame and watcher)"
    )
    print(f"daphne resident memory per idle watcher: {figures['idle_kib_per_watcher']} KiB")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
