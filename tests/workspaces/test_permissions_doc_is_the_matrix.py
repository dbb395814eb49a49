"""docs/permissions.md shows exactly the matrix the checks read (``manage.py permissionstable``)."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from workspaces import roles
from workspaces.management.commands.permissionstable import END, START, doc_path, with_table


def test_it_prints_the_matrix():
    out = io.StringIO()
    call_command("permissionstable", stdout=out)
    assert out.getvalue().strip() == roles.table()


def test_the_doc_holds_the_matrix_between_its_markers():
    text = doc_path().read_text(encoding="utf-8")
    between = text.split(START, 1)[1].split(END, 1)[0]
    assert between.strip() == roles.table(), "run: manage.py permissionstable --write"


def test_write_replaces_only_what_lies_between_the_markers():
    text = f"intro\n{START}\n| stale |\n{END}\noutro\n"
    assert with_table(text, "| new |") == f"intro\n{START}\n| new |\n{END}\noutro\n"


def test_a_doc_without_markers_is_refused():
    with pytest.raises(CommandError, match="lacks the markers"):
        with_table("no markers here", "| t |")
