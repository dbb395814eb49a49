"""The workspace activity log: every administrative change (members and roles, invitations,
secrets, model configurations, webhooks, team deletions, renames) is written here through
``record``, called by the service functions that make the change, never by the views.

Only names and what changed are kept, never a secret's value or a key: ``record`` refuses a
detail whose name says it could hold one, loudly, so a careless caller fails its tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from .models import Activity, Workspace

#: Detail names that could carry a secret: ``record`` refuses them.
FORBIDDEN_DETAIL = frozenset({"value", "secret", "api_key", "key", "password", "token"})
#: The export's columns, in order.
COLUMNS = ("at", "actor", "action", "target", "detail")


def record(
    workspace: Workspace | int | None, actor: Any, action: str, target: str = "", **detail: Any
) -> Activity | None:
    """Writes one line of ``workspace``'s log: ``actor`` (a user, or None for the system) did
    ``action`` to ``target``. An actor using an API token is recorded with the token's id."""
    if workspace is None:
        return None
    if leaked := FORBIDDEN_DETAIL & set(detail):
        raise ValueError(f"the activity log never keeps {sorted(leaked)}")
    authenticated = getattr(actor, "is_authenticated", False)
    scope = getattr(actor, "token_scope", None)
    if scope is not None and getattr(scope, "token_id", None) is not None:
        detail.setdefault("via", f"token:{scope.token_id}")
    return Activity.objects.create(
        workspace_id=workspace if isinstance(workspace, int) else workspace.pk,
        actor=actor if authenticated else None,
        actor_name=actor.get_username() if authenticated else "",
        action=action,
        target=str(target)[:200],
        detail=json.loads(json.dumps(detail, default=str)),
    )


def entries(
    workspace: Workspace,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Activity]:
    """The log of ``workspace``, newest first; ``action`` matches a prefix (``member`` finds
    every member change), ``actor`` a username."""
    found = Activity.objects.filter(workspace=workspace)
    if action:
        found = found.filter(action__startswith=action)
    if actor:
        found = found.filter(actor_name=actor)
    if since:
        found = found.filter(at__gte=since)
    if until:
        found = found.filter(at__lt=until)
    return found


def as_dict(entry: Activity) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor": entry.actor_name or None,
        "action": entry.action,
        "target": entry.target,
        "detail": entry.detail,
    }


def jsonl_lines(found: QuerySet[Activity]) -> Iterator[str]:
    for entry in found.iterator():
        yield json.dumps(as_dict(entry), ensure_ascii=False) + "\n"


def csv_lines(found: QuerySet[Activity]) -> Iterator[str]:
    """CSV with a header; a cell a spreadsheet would run as a formula (a team named
    ``=HYPERLINK(...)``) is quoted with a leading apostrophe."""
    yield _csv_row(COLUMNS)
    for entry in found.iterator():
        row = as_dict(entry)
        row["detail"] = json.dumps(row["detail"], ensure_ascii=False)
        yield _csv_row(tuple(row[c] or "" for c in COLUMNS))


def _csv_row(cells: tuple[Any, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([_inert(str(c)) for c in cells])
    return buffer.getvalue()


def _inert(cell: str) -> str:
    return "'" + cell if cell[:1] in ("=", "+", "-", "@", "\t", "\r") else cell
