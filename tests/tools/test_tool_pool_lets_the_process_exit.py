"""A process that used the tool pool exits when it is done: a worker being restarted, or a
test run, must not wait forever at exit for the pool's idle children (the full test suite did,
once a Celery test had set up multiprocessing's logger)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import asyncio, math, multiprocessing

from runs.engine.tools.process_pool import run_in_pool


async def main():
    print(await run_in_pool(math.sqrt, 1764.0, timeout_s=30))
    # What Celery's logging set-up does: moves multiprocessing's exit handler, which joins
    # every child process, to the front of the exit handlers.
    multiprocessing.get_logger()


if __name__ == "__main__":
    asyncio.run(main())
"""


def test_a_process_that_used_the_pool_exits(tmp_path: Path) -> None:
    script = tmp_path / "use_pool.py"
    script.write_text(SCRIPT)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}

    # Generous: it takes a second or two; before, it never ended.
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42.0"
