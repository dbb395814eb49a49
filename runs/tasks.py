"""The Celery side of execution: the task, and what a worker sets up when it starts."""

from __future__ import annotations

import gc
from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from . import wakes
from .engine.tools import builtin_registry
from .execution import execute, run_loop


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_run(run_id: str) -> None:
    """Execute a run on this worker's run loop. Idempotent: a run that is not queued (or
    orphaned by a dead worker) is left alone, so a redelivered message is harmless."""
    run_loop.submit(execute(str(run_id))).result()


#: Allocations between the garbage collector's young passes in a worker (Python's default is
#: 700), and young passes between older ones (10 and 10). Hundreds of runs on one loop
#: allocate fast and most of it dies young, freed by reference counting anyway; at the
#: default the collector ran hundreds of times a second. Measured keeping 200 runs in flight
#: on one worker: 0.874 and 0.879 of ideal throughput at the defaults, 0.894 and 0.898 here.
GC_THRESHOLDS = (20_000, 20, 100)


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
def sweep_for_runs(**_: Any) -> None:
    """This worker takes back runs whose executor died, whether or not any worker starts
    after that, and wakes runs whose question's deadline passes (``runs.wakes``)."""
    wakes.start()
