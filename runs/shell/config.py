"""Every tuning knob of the run shell in one place, each with the reason for its value.

Settings an operator may change are read from ``django.conf.settings`` (documented in the
README's settings table); the rest are constants chosen by measurement (docs/performance-log.md
holds the rounds that chose them). Tests and benchmarks change them with ``monkeypatch``.
"""

from __future__ import annotations

from django.conf import settings


def heartbeat_s() -> float:
    """How often an executor rewrites the heartbeat of the runs it holds (``RUN_HEARTBEAT_S``)."""
    return float(getattr(settings, "RUN_HEARTBEAT_S", 5.0))


def stale_after_s() -> float:
    """A running run whose heartbeat is older than this is taken to be orphaned
    (``RUN_STALE_AFTER_S``)."""
    return float(getattr(settings, "RUN_STALE_AFTER_S", 30.0))


def cancel_poll_s() -> float:
    """How often an executor looks for cancels of the runs it holds (``RUN_CANCEL_POLL_S``)."""
    return float(getattr(settings, "RUN_CANCEL_POLL_S", 1.0))


def sweep_s() -> float:
    """The longest time between two sweeps for orphaned and due runs (``RUN_WAKE_SWEEP_S``);
    0 turns sweeping off."""
    return float(getattr(settings, "RUN_WAKE_SWEEP_S", 5.0))


# --- the event sink ----------------------------------------------------------------------

#: How long a sink waits for more events before writing, to batch bursts (seconds). Not when
#: the engine waits for an event: it emits nothing more until that is stored. Two milliseconds
#: gathers a streaming agent's burst into one INSERT without a delay anyone sees.
COALESCE_WINDOW_S = 0.002

#: Group commits of one event loop that may be in flight at once: an event emitted while a
#: commit is under way starts the next at once instead of waiting for it to end. Three kept
#: 200 runs on one worker at the same throughput as more, with fewer connections busy.
WRITES_IN_FLIGHT = 3

# --- database threads ----------------------------------------------------------------------

#: Threads that do the executors' database work off their event loop; each keeps its own
#: connection. Eight covers the writes in flight, the claims, the ends and the heartbeat
#: rounds at once, well under PostgreSQL's default of 100 connections per worker host.
DB_THREADS = 8
#: Threads for ORM work that also waits on other things (``loop.in_waiting_db_thread``).
WAITING_DB_THREADS = 4

#: Tries of a database call whose connection dropped (a database restart, a lock that did
#: not clear), with a backoff of 50 ms doubling: about 1.5 s in all.
DB_ATTEMPTS = 5

# --- dispatch ------------------------------------------------------------------------------

#: Runs one Celery message carries when many are started together (an experiment's round of
#: items, ``runs.execution.enqueue_many``). Its worker claims them in one round; ten spreads
#: an experiment's first round of 50 over five messages, so over the workers, while cutting
#: the messages tenfold. Such a message holds one Celery slot (``-c``) for all its runs.
DISPATCH_BATCH = 10

# --- sweeps ----------------------------------------------------------------------------------

#: Runs woken (or taken back from a dead executor) by one query; more are woken by the sweep
#: that follows at once.
SWEEP_BATCH = 100

# --- the worker process --------------------------------------------------------------------

#: Allocations between the garbage collector's young passes in a worker (Python's default is
#: 700), and young passes between older ones (10 and 10). Hundreds of runs on one loop
#: allocate fast and most of it dies young, freed by reference counting anyway; at the
#: default the collector ran hundreds of times a second. Measured keeping 200 runs in flight
#: on one worker: 0.874 and 0.879 of ideal throughput at the defaults, 0.894 and 0.898 here.
GC_THRESHOLDS = (20_000, 20, 100)
