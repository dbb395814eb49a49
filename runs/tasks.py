"""The Celery side of execution: the task, and what a worker sets up when it starts."""

from __future__ import annotations

import gc
import os
from typing import Any

from celery.signals import worker_process_shutdown, worker_ready

from . import metrics, wakes
from .engine.tools import builtin_registry
from .execution import execute_run  # noqa: F401 - the task, registered under this module's name
from .shell.config import GC_THRESHOLDS


@worker_ready.connect
def freeze_what_booted(**_: Any) -> None:
    """Keep what is loaded at start (Django, the model clients: over 100,000 objects) out of
    the garbage collector's full passes: they live as long as the worker, and scanning them
    again and again while hundreds of runs allocate cost the runs about 5 % of throughput.
    Then collect less often (``GC_THRESHOLDS``). The built-in tools are loaded first (they
    import numpy and a search index, about 0.2 s), so the first run does not wait for them
    and they are frozen too."""
    builtin_registry()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


@worker_ready.connect
def serve_metrics(**_: Any) -> None:
    """``METRICS_WORKER_PORT``: this worker's counts, for Prometheus to scrape."""
    metrics.start_worker_server()


@worker_process_shutdown.connect
def forget_process_gauges(pid: int | None = None, **_: Any) -> None:
    metrics.process_ended(pid or os.getpid())


@worker_ready.connect
def sweep_for_runs(**_: Any) -> None:
    """This worker takes back runs whose executor died, whether or not any worker starts
    after that, and wakes runs whose question's deadline passes (``runs.wakes``)."""
    wakes.start()
