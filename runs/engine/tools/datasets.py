"""SQL datasets a team can query by name, opened so that only reading is possible.

A shipped dataset is a ``.sql`` script in ``data/datasets/`` built into a SQLite file at first
use (in ``settings["data_cache_dir"]``, or the system temp directory); an operator can add their
own SQLite files by name in ``settings["datasets"]``. Either way the connection is opened with
``mode=ro`` and an authorizer that allows only reading, so a query cannot write, attach another
file or change a pragma whatever its text says. The database enforces it, not string matching.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from .paths import named, shipped
from .registry import ToolFailure

# What a read-only query needs; everything else (INSERT, UPDATE, DELETE, CREATE, DROP, ATTACH,
# DETACH, PRAGMA, ALTER, transactions, ...) is denied by the authorizer.
_READ_ACTIONS = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}
_READ_ACTIONS.add(getattr(sqlite3, "SQLITE_RECURSIVE", 33))
# Functions that read outside the dataset or change the connection are refused by name.
_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}
_PROGRESS_EVERY = 10_000  # virtual-machine steps between deadline checks
# Bounds on what one query can make, whatever its text: no string or blob over 1 MB (so
# zeroblob(200000000) fails at once instead of allocating), no statement over 100 KB, no
# expression nested deeper than 200 or compound select of more than 50 parts.
SQL_LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: 1_000_000,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 200,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_COLUMN: 500,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 32,
}


def database_path(name: str, settings: dict[str, Any]) -> Path:
    source = named("dataset", name, shipped("datasets", ".sql"), settings.get("datasets") or {})
    if source.suffix != ".sql":
        return source
    return _built(source, Path(settings.get("data_cache_dir") or tempfile.gettempdir()))


def _built(script: Path, cache_dir: Path) -> Path:
    """The SQLite file built from ``script``; rebuilt when the script changes."""
    text = script.read_text(encoding="utf-8")
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    target = cache_dir / "orchestrator-datasets" / f"{script.stem}-{digest}.sqlite3"
    if target.exists():
        if target.stat().st_uid != os.getuid():
            # The default cache is the shared temp directory: never trust another user's file.
            raise ToolFailure(
                f"The dataset cache {target.parent} holds a file of another user; the operator "
                "should set data_cache_dir to a directory only this service writes."
            )
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(fd)
    with sqlite3.connect(partial) as connection:
        connection.executescript(text)
    connection.close()
    os.chmod(partial, 0o444)
    os.replace(partial, target)  # atomic: concurrent first uses never see half a database
    return target


def _authorize(action: int, arg1: str | None, arg2: str | None, *_: Any) -> int:
    if action not in _READ_ACTIONS:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in _DENIED_FUNCTIONS:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def connect_read_only(path: Path, deadline: float) -> sqlite3.Connection:
    """A connection that can only read ``path`` and gives up at ``deadline`` (monotonic)."""
    if not path.is_file():
        raise FileNotFoundError(f"The dataset file {path.name} is missing.")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    for category, limit in SQL_LIMITS.items():
        connection.setlimit(category, limit)
    connection.set_authorizer(_authorize)
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), _PROGRESS_EVERY)
    return connection


def describe(connection: sqlite3.Connection) -> dict[str, list[str]]:
    """Tables and views with their columns, for an agent that must write a query."""
    connection.set_authorizer(None)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: [c[1] for c in connection.execute("SELECT * FROM pragma_table_info(?)", (name,))]
            for name in names
        }
    finally:
        connection.set_authorizer(_authorize)
