"""The workspace activity log: every administrative change is there (members, invitations,
secrets, models, webhooks, team deletions, renames), never a secret's value; owners, admins
and auditors read it, filter it and export it as CSV or JSON Lines."""

import json

import pytest

from tests.factories import make_team, make_user
from workspaces import activity
from workspaces.models import Activity

from .helpers import client_of, send, shared_workspace

pytestmark = pytest.mark.django_db
SECRET_VALUE = "sk-live-do-not-log-me"


def actions(workspace) -> list[tuple[str, str, str]]:
    found = Activity.objects.filter(workspace=workspace).order_by("at", "pk")
    return [(a.actor_name, a.action, a.target) for a in found]


def test_member_changes_and_invitations_are_logged() -> None:
    workspace, users = shared_workspace(admin="ada")
    make_user("bob")
    ada = client_of(users["ada"])
    url = f"/api/workspaces/{workspace.slug}"
    send(ada, "post", f"{url}/members", {"username": "bob", "role": "viewer"})
    send(ada, "patch", f"{url}/members/bob", {"role": "runner"})
    send(ada, "delete", f"{url}/members/bob")
    made = send(ada, "post", f"{url}/invitations", {"role": "editor"}).json()
    send(ada, "delete", f"{url}/invitations/{made['id']}")
    second = send(ada, "post", f"{url}/invitations", {"role": "viewer"}).json()
    client_of(make_user("carl")).post(second["url"][second["url"].index("/invitations/") :])
    send(ada, "patch", url, {"name": "Acme Labs"})
    assert actions(workspace) == [
        ("ada", "member.added", "bob"),
        ("ada", "member.role_changed", "bob"),
        ("ada", "member.removed", "bob"),
        ("ada", "invitation.created", made["hint"]),
        ("ada", "invitation.revoked", made["hint"]),
        ("ada", "invitation.created", second["hint"]),
        ("carl", "invitation.accepted", "carl"),
        ("ada", "workspace.renamed", "Acme Labs"),
    ]
    changed = Activity.objects.get(action="member.role_changed")
    assert changed.detail == {"before": "viewer", "role": "runner"}
    assert Activity.objects.get(action="workspace.renamed").detail == {"before": "Acme"}


def test_secrets_models_webhooks_and_team_deletions_are_logged_without_values() -> None:
    alice = make_user("alice")
    client = client_of(alice)
    secret = {"name": "openai", "value": SECRET_VALUE, "hosts": ["api.openai.com"]}
    created = send(client, "post", "/api/secrets", secret)
    assert created.status_code == 201
    model = {
        "name": "gpt",
        "provider": "openai",
        "model": "gpt-4o",
        "secret": "openai",
        "base_url": "https://api.openai.com/v1",
    }
    made = send(client, "post", "/api/models", model).json()
    send(client, "put", f"/api/models/{made['id']}", {**model, "model": "gpt-4o-mini"})
    send(client, "delete", f"/api/models/{made['id']}")
    send(client, "delete", f"/api/secrets/{created.json()['id']}")
    team = make_team(alice)
    hooks = f"/api/teams/{team.pk}/webhooks"
    hook = send(client, "post", hooks, {"url": "https://hooks.example.org/x"}).json()
    send(client, "delete", f"{hooks}/{hook['id']}")
    send(client, "delete", f"/api/teams/{team.pk}")
    workspace = team.workspace
    assert [a[1:] for a in actions(workspace)] == [
        ("secret.created", "openai"),
        ("model.created", "gpt"),
        ("model.changed", "gpt"),
        ("model.deleted", "gpt"),
        ("secret.deleted", "openai"),
        ("webhook.created", "https://hooks.example.org/x"),
        ("webhook.deleted", "https://hooks.example.org/x"),
        ("team.deleted", "Minimal team"),
    ]
    assert Activity.objects.get(action="model.changed").detail["model"] == "gpt-4o-mini"
    exported = client.get(f"/api/workspaces/{workspace.slug}/activity?format=jsonl")
    body = b"".join(exported.streaming_content)
    assert SECRET_VALUE.encode() not in body
    assert hook["secret"].encode() not in body
    assert len(body.splitlines()) == 8


def test_record_refuses_a_detail_that_could_hold_a_secret() -> None:
    workspace, users = shared_workspace()
    with pytest.raises(ValueError, match="never keeps"):
        activity.record(workspace, users["olivia"], "secret.created", "x", value="hunter2")


@pytest.mark.parametrize(
    ("role", "status"), [("auditor", 200), ("admin", 200), ("editor", 403), ("viewer", 403)]
)
def test_who_reads_the_log(role: str, status: int) -> None:
    workspace, users = shared_workspace(**{role: "mem"})
    url = f"/api/workspaces/{workspace.slug}/activity"
    assert client_of(users["mem"]).get(url).status_code == status
    assert client_of(make_user("mallory")).get(url).status_code == 404


def test_filters_and_exports() -> None:
    workspace, users = shared_workspace(admin="ada")
    evil = '=HYPERLINK("http://evil")'
    activity.record(workspace, users["ada"], "member.added", evil, role="viewer")
    activity.record(workspace, users["olivia"], "secret.deleted", "db")
    url = f"/api/workspaces/{workspace.slug}/activity"
    olivia = client_of(users["olivia"])
    assert [e["target"] for e in olivia.get(f"{url}?action=member").json()] == [evil]
    by_olivia = [e["action"] for e in olivia.get(f"{url}?actor=olivia").json()]
    assert by_olivia == ["secret.deleted"]
    assert olivia.get(f"{url}?since=2999-01-01T00:00:00Z").json() == []
    assert olivia.get(f"{url}?format=xml").status_code == 422
    assert olivia.get(f"{url}?since=yesterday").status_code == 422

    exported = olivia.get(f"{url}?format=csv&action=member")
    assert exported["Content-Type"].startswith("text/csv")
    assert f"{workspace.slug}-activity.csv" in exported["Content-Disposition"]
    lines = b"".join(exported.streaming_content).decode().splitlines()
    assert lines[0] == "at,actor,action,target,detail"
    assert ',ada,member.added,"\'=HYPERLINK(""http://evil"")",' in lines[1]  # inert
    jsonl = b"".join(olivia.get(f"{url}?format=jsonl").streaming_content).decode()
    found = [json.loads(line)["action"] for line in jsonl.splitlines()]
    assert found == ["secret.deleted", "member.added"]
