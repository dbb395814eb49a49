"""The artifact storage full (a small tmpfs, filled, as the worker's MEDIA_ROOT): a tool that
saves an artifact gets a failed result saying the storage is full, in words that give away no
server path, the agent reads it and the run finishes; nothing is recorded for the file that
could not be written."""

import asyncio
import errno
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import Artifact, RunEvent
from tests.conftest import require
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.faults.workload import WORKER_ENV, wait_for
from tests.runs.helpers import assert_sound_trail, logged_in, start
from tests.runs.live import PrivateRedis, start_worker
from tests.support.openai_server import ChatRequest, Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(180),
]

CHART = {"kind": "bar", "title": "Sales", "labels": ["Oct", "Nov"], "series": {"EUR": [3, 4]}}


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A 256 KiB tmpfs with no byte left (mounting one needs root, as CI has)."""
    where = Path(tempfile.mkdtemp(prefix="wt-full-media-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)], capture_output=True
    )
    require(mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.decode().strip()}")
    try:
        filler = os.open(where / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(filler, b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
        finally:
            os.close(filler)
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)
        os.rmdir(where)


def chart_then_answer(request: ChatRequest) -> Reply:
    if request.turn == 1:
        return Reply.calls(("make_chart", CHART))
    return Reply.text(f"Could not chart it: {request.tool_results[-1][:200]}")


def charting_run(base_url: str) -> str:
    alice = make_user()
    make_model_config(alice, base_url)
    charter = {"kind": "agent", "id": "charter", "name": "Charter", "model": "scripted",
               "tools": ["make_chart"]}  # fmt: skip
    team = make_team(alice, minimal_spec(entry="charter", nodes=[charter]))
    return start(logged_in(alice), team.id, "Chart the sales")


async def test_a_full_artifact_storage_fails_the_tool_call_not_the_run(
    openai_server: Any, stack: PrivateRedis, full_disk: Path
) -> None:
    openai_server.on(lambda r: True, chart_then_answer)
    env = {**WORKER_ENV, "MEDIA_ROOT": str(full_disk)}
    worker = await asyncio.to_thread(start_worker, stack, "first", 4, **env)
    try:
        run_id = await sync_to_async(charting_run)(openai_server.base_url)
        run = await sync_to_async(wait_for)(run_id, "succeeded", "failed")
    finally:
        worker.stop()

    assert run.status == "succeeded", run.failure_reason
    await sync_to_async(assert_sound_trail)(run)
    result = await RunEvent.objects.aget(run_id=run_id, type="tool.result")
    assert result.payload["ok"] is False
    error = result.payload["error"]
    assert "storage is full" in error and str(full_disk) not in error, error
    assert not await Artifact.objects.filter(run_id=run_id).aexists()
    files = [path.name for path in full_disk.rglob("*") if path.is_file()]
    assert files == ["filler"]  # no half-written file
