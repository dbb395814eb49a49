"""``manage.py permissionstable``: the permission matrix as Markdown; ``--write`` puts it in
docs/permissions.md between its markers (a test keeps the two equal)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from workspaces import roles

START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"


def doc_path() -> Path:
    return Path(settings.BASE_DIR) / "docs" / "permissions.md"


def with_table(text: str, table: str) -> str:
    """``text`` with what lies between the markers replaced by ``table``."""
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise CommandError(f"{doc_path()} lacks the markers {START} and {END}.")
    return f"{head}{START}\n{table}\n{END}{tail}"


class Command(BaseCommand):
    help = "Print the permission matrix as Markdown; --write updates docs/permissions.md."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--write", action="store_true", help="Update docs/permissions.md in place."
        )

    def handle(self, *args: Any, write: bool = False, **options: Any) -> None:
        table = roles.table()
        if not write:
            self.stdout.write(table)
            return
        path = doc_path()
        before = path.read_text(encoding="utf-8")
        after = with_table(before, table)
        if after != before:
            path.write_text(after, encoding="utf-8")
        self.stdout.write(f"{path} {'updated' if after != before else 'already up to date'}.")
