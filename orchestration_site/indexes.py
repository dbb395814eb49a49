"""Index migrations that keep writes going on PostgreSQL and still run on SQLite (the
embedded default of ``make run``).

On PostgreSQL an index is built and dropped ``CONCURRENTLY``: a plain ``CREATE INDEX`` reads
the whole table while blocking every write to it, and a plain ``DROP INDEX`` queues writes
behind an exclusive lock that waits for long queries. SQLite has neither the keyword nor
PostgreSQL's operator classes (the ``_like`` twins Django makes for text columns), so there
an index is built and dropped plainly, and one with an operator class was never made. A
migration using these sets ``atomic = False``: ``CONCURRENTLY`` cannot run in a transaction.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations


def _on_postgres(schema_editor: Any) -> bool:
    return bool(schema_editor.connection.vendor == "postgresql")


class AddIndexWithoutBlocking(AddIndexConcurrently):
    """``AddIndexConcurrently`` on PostgreSQL, a plain ``AddIndex`` elsewhere."""

    def database_forwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_forwards(app_label, schema_editor, *states)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, *states)

    def database_backwards(self, app_label: str, schema_editor: Any, *states: Any) -> None:
        if _on_postgres(schema_editor):
            super().database_backwards(app_label, schema_editor, *states)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, *states)


def drop_index_without_blocking(table: str, name: str, definition: str) -> migrations.RunPython:
    """Drop index ``name`` of ``table`` if it is there; reversed, build it again from
    ``definition`` (its parenthesised columns, as PostgreSQL's ``CREATE INDEX`` takes them)."""

    def drop(apps: Any, schema_editor: Any) -> None:
        how = " CONCURRENTLY" if _on_postgres(schema_editor) else ""
        schema_editor.execute(f'DROP INDEX{how} IF EXISTS "{name}"')

    def build(apps: Any, schema_editor: Any) -> None:
        if _on_postgres(schema_editor):
            how = " CONCURRENTLY"
        elif "_ops" in definition:
            return  # an operator class: PostgreSQL's alone, never made here
        else:
            how = ""
        schema_editor.execute(f'CREATE INDEX{how} IF NOT EXISTS "{name}" ON "{table}" {definition}')

    return migrations.RunPython(drop, build)
