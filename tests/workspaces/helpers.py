"""What the workspace tests share: a workspace with members in given roles, and clients."""

from typing import Any

from django.test import Client

from tests.factories import make_user
from workspaces.models import Membership, Workspace, create_workspace


def shared_workspace(name: str = "Acme", **members: str) -> tuple[Workspace, dict[str, Any]]:
    """A workspace owned by ``olivia`` with ``members`` (role=username, one per role); the
    users by name."""
    users = {"olivia": make_user("olivia")}
    workspace = create_workspace(name, owner=users["olivia"])
    for role, username in members.items():
        users[username] = make_user(username)
        Membership.objects.create(workspace=workspace, user=users[username], role=role)
    return workspace, users


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client: Client, method: str, url: str, body: Any = None, **headers: str) -> Any:
    if body is None:
        return getattr(client, method)(url, headers=headers)
    return getattr(client, method)(url, body, content_type="application/json", headers=headers)


def role_of(workspace: Workspace, username: str) -> str | None:
    found = Membership.objects.filter(workspace=workspace, user__username=username)
    return found.values_list("role", flat=True).first()
