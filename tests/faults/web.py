"""A daphne process that can be restarted on the same port, as behind a load balancer."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from tests.runs.live import BIN, ROOT, PrivateRedis, free_port, stack_env, wait_for_port


@dataclass
class WebProcess:
    redis: PrivateRedis
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, **env: str) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(self.port),
             "orchestration_site.asgi:application"],
            cwd=ROOT,
            env=stack_env(self.redis, RUN_WATCH_POLL_S="0.5", **env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
