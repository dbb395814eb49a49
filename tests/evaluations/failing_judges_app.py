"""The Celery app of a worker process whose experiments' judge phase raises: the first
``JUDGE_PHASE_FAILS`` times it is entered in the process, or every time (``-1``), with an
exception whose text no user should read (``test_judges_that_cannot_be_asked.SECRET``).
Start it with ``start_worker(..., celery_app="tests.evaluations.failing_judges_app")``."""

import os
import threading
from typing import Any

import django

from orchestration_site.celery import app

django.setup()

from evaluations import actions  # noqa: E402  (the models need the apps set up first)

FAILS = int(os.environ.get("JUDGE_PHASE_FAILS", "-1"))
_lock = threading.Lock()
_failed = 0
_real = actions._judged


def _judged(*args: Any) -> Any:
    global _failed
    with _lock:
        fail = FAILS < 0 or _failed < FAILS
        _failed += fail
    if fail:
        raise RuntimeError("a bug in the judge phase (postgres://app:hunter2@db)")
    return _real(*args)


actions._judged = _judged

__all__ = ["app"]
