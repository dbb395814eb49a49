from tests.e2e.conftest import model_server
from tests.runs.conftest import close_run_db_threads, redis, stack, worker

__all__ = ["close_run_db_threads", "model_server", "redis", "stack", "worker"]
