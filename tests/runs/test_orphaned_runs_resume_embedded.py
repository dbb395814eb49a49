"""In the embedded default (runs on a thread of the web process) the web process takes back
runs whose executor died as the Celery workers do: those it finds when it starts, and those
whose heartbeat goes stale while it runs, each resumed to the end."""

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from runs import wakes
from runs.models import Run
from tests.factories import make_run_of, make_team, make_user, supervisor_spec
from tests.runs.helpers import assert_sound_trail, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any) -> Iterator[None]:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_ENGINE_OPTIONS = {"retry_base_s": 0.01, "retry_cap_s": 0.05}
    settings.RUN_HEARTBEAT_S, settings.RUN_STALE_AFTER_S = 0.5, 2
    settings.RUN_WAKE_SWEEP_S = 0.5
    yield
    wakes.stop()


def orphan(silent_for_s: float) -> Run:
    """A run claimed by an executor in a process that has since died (offline model)."""
    team = make_team(make_user(), supervisor_spec())
    beat = timezone.now() - timedelta(seconds=silent_for_s)
    return make_run_of(
        team, status="running", claimed_by="web-1:4242:0badc0de", heartbeat_at=beat,
        started_at=beat,
    )  # fmt: skip


def test_a_run_orphaned_before_the_web_process_started_resumes() -> None:
    run = orphan(silent_for_s=60)

    wakes.start()

    run = wait_for_status(str(run.id), "succeeded", "failed", within_s=30)
    assert run.status == "succeeded", run.failure_reason
    assert assert_sound_trail(run)[-1].type == "run.finished"


def test_a_run_orphaned_while_the_web_process_runs_resumes_after_the_stale_time() -> None:
    wakes.start()
    run = orphan(silent_for_s=1)  # stale a second from now, after the first sweep

    run = wait_for_status(str(run.id), "succeeded", "failed", within_s=30)
    assert run.status == "succeeded", run.failure_reason
    assert_sound_trail(run)
