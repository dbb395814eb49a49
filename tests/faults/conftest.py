"""The fault matrix shares the production stack as processes with tests/runs (tests/runs/live.py)."""

from tests.runs.conftest import close_run_db_threads, redis, stack

__all__ = ["close_run_db_threads", "redis", "stack"]
