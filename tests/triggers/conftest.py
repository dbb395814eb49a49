from tests.runs.conftest import close_run_db_threads, redis  # noqa: F401 - runs execute here too
