"""On the production stack, with two beat processes running by mistake: a schedule set to
fire every minute starts exactly one run per minute. Real processes: a private Redis, a
Celery worker, two `celery beat` with django-celery-beat's database scheduler, PostgreSQL."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from runs.models import Run
from tests.factories import make_supervisor_team
from tests.ops.helpers import wait_until
from tests.runs.live import BIN, ROOT, PrivateRedis, Worker, stack_env, start_worker
from triggers import actions
from triggers.models import Schedule, ScheduleFiring

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def start_beat(redis: PrivateRedis, name: str) -> Worker:
    directory = Path(redis.directory)
    log = directory / f"{name}.log"
    process = subprocess.Popen(
        [str(BIN / "celery"), "-A", "orchestration_site", "beat", "-l", "INFO",
         "-S", "django_celery_beat.schedulers:DatabaseScheduler",
         "--pidfile", str(directory / f"{name}.pid")],
        cwd=ROOT,
        env=stack_env(redis),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    wait_until(lambda: "beat: Starting" in log.read_text(errors="replace"), f"{name} to start", 60)
    return Worker(process, log)


@pytest.fixture
def processes(redis: PrivateRedis) -> Iterator[list[Worker]]:
    started: list[Worker] = []
    yield started
    for process in started:
        process.stop()


def test_two_beats_start_one_run_per_minute(
    alice: User, redis: PrivateRedis, processes: list[Worker]
) -> None:
    schedule = actions.do_save_schedule(
        Schedule(team=make_supervisor_team(alice), cron="* * * * *", input={"question": "6*7?"}),
        rearm=True,
    )
    processes.append(start_worker(redis, "worker"))
    processes.append(start_beat(redis, "beat-1"))
    processes.append(start_beat(redis, "beat-2"))
    both_up = timezone.now()

    # The next two ticks, each sent by both beats: the second firing of each is refused.
    def two_ticks_fired_twice() -> Any:
        ticks = ScheduleFiring.objects.filter(schedule=schedule, tick__gte=both_up)
        firings = list(ticks.order_by("tick")[:2])
        return len(firings) == 2 and all(f.duplicates >= 1 for f in firings) and firings

    try:
        first, second = wait_until(two_ticks_fired_twice, "two ticks fired by both beats", 200)
    except AssertionError:
        seen = list(ScheduleFiring.objects.values("tick", "run_id", "duplicates", "error"))
        raise AssertionError(
            f"{seen}\n" + "\n".join(p.output()[-3000:] for p in processes)
        ) from None
    for process in processes[1:]:
        process.stop()

    logs = "".join(p.output() for p in processes[1:])
    # Each beat sent each of those ticks (and any before both were up): at least four sends.
    assert logs.count("Sending due task triggers.schedule.") >= 4, logs
    assert (second.tick - first.tick).total_seconds() == 60
    assert (first.duplicates, second.duplicates) == (1, 1)
    firings = ScheduleFiring.objects.filter(schedule=schedule)
    runs = Run.objects.filter(started_by=f"schedule:{schedule.id}")
    assert runs.count() == firings.count()  # one run per minute, whatever ticked after
    assert {f.run_id for f in firings} == set(runs.values_list("id", flat=True))
    # The worker executed them.
    wait_until(
        lambda: (
            Run.objects.filter(id__in=[first.run_id, second.run_id], status="succeeded").count()
            == 2
        ),
        "the worker to finish both runs",
        60,
    )
