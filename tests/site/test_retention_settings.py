"""Retention's settings: nonsense stops start-up with what to set, and the daily pass the
beat schedule names is a task the workers know."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def start(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "orchestration_site.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"RUN_RETENTION_DAYS": "-1"}, "RUN_RETENTION_DAYS is -1: give a number of days, or 0"),
        ({"RUN_RETENTION_DAYS": "a month"}, "invalid literal for int"),
        ({"ARCHIVE_BATCH": "0"}, "ARCHIVE_BATCH is 0: give 1 or more runs."),
        (
            {"WATCHER_MAX_BACKLOG_BYTES": "1000"},
            "WATCHER_MAX_BACKLOG_BYTES is 1000: give 65536 bytes or more.",
        ),
    ],
)
def test_nonsense_stops_start_up(env: dict[str, str], said: str) -> None:
    result = start(**env)
    assert result.returncode != 0
    assert said in result.stderr


def test_the_beat_schedule_runs_the_retention_pass_daily(settings: Any) -> None:
    from orchestration_site.celery import app

    app.loader.import_default_modules()
    entry = settings.CELERY_BEAT_SCHEDULE["archive-old-runs"]
    assert entry["task"] in app.tasks
    assert entry["schedule"].hour == {3} and entry["schedule"].day_of_week == set(range(7))
