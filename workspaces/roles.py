"""Who may do what in a workspace: the roles and the permission matrix, written once, as data.

Every check (API, pages, the websocket, artifacts, exports, management commands) goes through
``workspaces.access``, which reads only this table; ``docs/permissions.md`` is rendered from
it (``manage.py permissionstable``) and a test keeps the two equal.

A role is nothing but the set of permissions it holds. "No higher than" (for API tokens) is
set inclusion, so the auditor, who reads audit trails but not teams, is neither above nor below
the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    RUNNER = "runner", "Runner"
    VIEWER = "viewer", "Viewer"
    AUDITOR = "auditor", "Auditor"


OWNER, ADMIN, EDITOR, RUNNER, VIEWER, AUDITOR = (
    Role.OWNER,
    Role.ADMIN,
    Role.EDITOR,
    Role.RUNNER,
    Role.VIEWER,
    Role.AUDITOR,
)
#: Highest first: the order lists and the "needs the ... role" sentences use.
ORDER: tuple[Role, ...] = (OWNER, ADMIN, EDITOR, RUNNER, VIEWER, AUDITOR)
EVERYONE = frozenset(ORDER)
BUILDERS = frozenset({OWNER, ADMIN, EDITOR})
OPERATORS = BUILDERS | {RUNNER}
READERS = OPERATORS | {VIEWER}
MANAGERS = frozenset({OWNER, ADMIN})


@dataclass(frozen=True)
class Permission:
    name: str
    #: What it lets you do, completing "… needs the editor role": "Changing a team".
    doing: str
    roles: frozenset[Role]


def _matrix(*rows: tuple[str, str, frozenset[Role]]) -> dict[str, Permission]:
    return {name: Permission(name, doing, frozenset(roles)) for name, doing, roles in rows}


PERMISSIONS: dict[str, Permission] = _matrix(
    # The workspace itself
    ("workspace.view", "Seeing the workspace", EVERYONE),
    ("workspace.edit", "Changing the workspace's name or retention period", MANAGERS),
    ("workspace.delete", "Deleting the workspace", frozenset({OWNER})),
    ("members.view", "Seeing the members", EVERYONE),
    ("members.manage", "Inviting, changing and removing members", MANAGERS),
    ("activity.view", "Reading the activity log", MANAGERS | {AUDITOR}),
    # Teams
    ("team.view", "Reading teams", READERS),
    ("team.edit", "Building and changing teams", BUILDERS),
    ("team.delete", "Deleting a team", BUILDERS),
    ("tool.view", "Reading custom tools", READERS),
    ("tool.edit", "Changing custom tools", BUILDERS),
    ("schedule.view", "Reading schedules and triggers", READERS),
    ("schedule.edit", "Changing schedules and triggers", BUILDERS),
    ("publication.view", "Reading a team's publications and their keys (never the keys)", READERS),
    ("publication.manage", "Publishing a team and issuing or revoking its keys", BUILDERS),
    # Runs and their audit trails
    ("run.view", "Reading runs", EVERYONE),
    ("run.start", "Starting, forking and replaying runs", OPERATORS),
    ("run.answer", "Answering a run's questions", OPERATORS),
    ("run.cancel", "Cancelling a run", OPERATORS),
    ("audit.view", "Reading audit trails", EVERYONE),
    ("audit.export", "Verifying and exporting audit trails", EVERYONE),
    # What the workspace's runs use: models, keys and where results go
    ("model.view", "Reading model configurations", READERS),
    ("model.edit", "Changing model configurations", MANAGERS),
    ("secret.view", "Listing secrets (never their values)", BUILDERS),
    ("secret.edit", "Adding and deleting secrets", MANAGERS),
    ("webhook.view", "Reading webhooks", MANAGERS),
    ("webhook.edit", "Changing webhooks", MANAGERS),
    # Evaluations: datasets of cases and experiments of a team version over them
    ("dataset.view", "Reading datasets", READERS),
    ("dataset.edit", "Creating and changing datasets", BUILDERS),
    ("experiment.view", "Reading experiments and comparing them", READERS),
    ("experiment.start", "Starting and cancelling experiments", OPERATORS),
)


def permissions_of(role: str | None) -> frozenset[str]:
    """Every permission ``role`` holds (none for no role)."""
    return frozenset(name for name, p in PERMISSIONS.items() if role in p.roles)


def roles_with(permission: str) -> frozenset[Role]:
    """The roles that hold ``permission``; KeyError for a name not in the matrix."""
    return PERMISSIONS[permission].roles


def at_most(role: str, ceiling: str) -> bool:
    """Whether ``role`` is no higher than ``ceiling``: it holds nothing ``ceiling`` lacks."""
    return permissions_of(role) <= permissions_of(ceiling)


def needs_sentence(permission: str, role: str | None, workspace_name: str) -> str:
    """Why a member may not: '<Doing> in <workspace> needs the <roles> role; you are <role>.'"""
    wanted = [r.value for r in ORDER if r in roles_with(permission)]
    listed = wanted[0] if len(wanted) == 1 else ", ".join(wanted[:-1]) + " or " + wanted[-1]
    return (
        f"{PERMISSIONS[permission].doing} in {workspace_name} needs the {listed} role; "
        f"you are {role or 'not a member'}."
    )


def table() -> str:
    """The matrix as a Markdown table (docs/permissions.md)."""
    head = "| permission | what it allows | " + " | ".join(r.value for r in ORDER) + " |"
    rule = "|---|---|" + "---|" * len(ORDER)
    rows = [
        f"| `{p.name}` | {p.doing} | "
        + " | ".join("✓" if r in p.roles else "" for r in ORDER)
        + " |"
        for p in PERMISSIONS.values()
    ]
    return "\n".join([head, rule, *rows])
