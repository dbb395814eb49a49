"""In the embedded default (no Redis, so no beat) the web process fires schedules itself:
a due schedule starts a run that executes on the process's run loop, once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from runs.models import Run
from tests.factories import make_supervisor_team
from tests.ops.helpers import wait_until
from triggers import actions, tasks
from triggers.models import Schedule, ScheduleFiring

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def firing_loop(settings: Any) -> Iterator[None]:
    settings.RUN_EXECUTOR = "thread"
    settings.SCHEDULES_SWEEP_S = 0.2
    tasks.start_embedded()
    yield
    tasks.stop_embedded()


def test_the_web_process_fires_a_due_schedule_once(alice: User, firing_loop: None) -> None:
    schedule = actions.do_save_schedule(
        Schedule(team=make_supervisor_team(alice), cron="* * * * *", input={"question": "6*7?"}),
        rearm=True,
    )
    # Armed a while ago, as after a restart: this minute's tick is due now.
    Schedule.objects.filter(id=schedule.id).update(armed_at=timezone.now() - timedelta(minutes=5))

    run = wait_until(
        lambda: Run.objects.filter(
            started_by=f"schedule:{schedule.id}", status="succeeded"
        ).first(),
        "the schedule's run to finish",
        60,
    )

    assert run.input == {"question": "6*7?"}
    # Sweeps go on every 0.2 s; the tick they all see started one run.
    wait_until(lambda: Schedule.objects.get(id=schedule.id).last_tick is not None, "a claim")
    assert ScheduleFiring.objects.filter(schedule=schedule).count() in (1, 2)  # a minute may turn
    assert Run.objects.count() == ScheduleFiring.objects.filter(run__isnull=False).count()
