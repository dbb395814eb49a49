"""Generated from the matrix: every route of the API and every page, called by a member of each
role and by a non-member, answers what the permission it declares says (2xx when the role
holds it, 403 when a member's role does not, 404 for someone not in the workspace). The
non-member's 404 is compared, body and all, with the 404 the same call gets when every id in
it names nothing: whether something exists in a workspace one is not in cannot be told.

A route that declares no permission fails here, and so does one this module has no sample call
for: adding an endpoint means adding its row (``workspaces.operations.requires``/``page``) and
its call below. One workspace with one member per role; the shared objects are made once.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from evaluations.consumers import WATCH_PERMISSION as EXPERIMENT_WATCH_PERMISSION
from orchestration_site.api import api
from runs.consumers import WATCH_PERMISSION
from runs.models import Artifact, Run, Webhook
from runs.wiring import RunArtifacts
from teams import credentials
from teams.models import ApiToken, CustomTool, ModelConfig, TeamTemplate
from teams.services import create_team
from teams.spec import parse
from tests.factories import make_ended_run, make_event, make_user, minimal_spec, sign_head
from triggers.models import Schedule, Trigger
from workspaces import roles
from workspaces.models import Membership, create_workspace
from workspaces.operations import declared

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROLES = [r.value for r in roles.ORDER]
NON_MEMBER = "non-member"
CALLERS = [*ROLES, NON_MEMBER]
counter = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(counter)}"


@dataclass
class Call:
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    #: What every caller gets from a route that concerns no workspace (its own auth).
    public_status: int | None = None
    #: A multipart form (file uploads) instead of a JSON body.
    form: dict[str, Any] | None = None


class World:
    """The shared workspace, a member per role, a non-member, and one of everything."""

    def __init__(self, tmp_path: Any, settings: Any) -> None:
        settings.ARCHIVE_ROOT = tmp_path
        self.users = {"owner": make_user("olga")}
        self.workspace = create_workspace("Shared", owner=self.users["owner"])
        self.slug = self.workspace.slug
        for role in ROLES[1:]:
            self.users[role] = make_user(f"the-{role}")
            Membership.objects.create(workspace=self.workspace, user=self.users[role], role=role)
        self.users[NON_MEMBER] = make_user("nemo")
        self.team = self.new_team("Shared desk")
        self.run = self.new_run(status="succeeded")
        sign_head(self.run)
        RunArtifacts(self.run)._save("report.txt", b"findings", "text/plain")
        self.artifact = Artifact.objects.get(run=self.run)
        self.archived = self.new_run(status="succeeded")
        (tmp_path / "a.jsonl").write_text("{}\n")
        Run.objects.filter(id=self.archived.id).update(
            archived_at=timezone.now(), archive_path="a.jsonl"
        )
        self.model = self.new_model()
        self.tool = self.new_tool()
        self.schedule = self.new_schedule()
        self.publication = self.new_publication()
        self.template = TeamTemplate.objects.create(
            slug="tiny", name="Tiny", pattern="supervisor", spec=minimal_spec(name="Tiny")
        )

    @property
    def owner(self) -> Any:
        return self.users["owner"]

    def new_member(self) -> str:
        """A fresh viewer's username, to change or remove."""
        user = make_user(unique("member"))
        Membership.objects.create(workspace=self.workspace, user=user, role="viewer")
        return user.username

    def new_workspace(self) -> str:
        """Another workspace with the same members in the same roles (and a second owner, so
        the first may leave), to delete or leave."""
        other = create_workspace(unique("Spare "), owner=self.owner)
        Membership.objects.create(workspace=other, user=make_user(unique("co-owner")), role="owner")
        for role in ROLES[1:]:
            Membership.objects.create(workspace=other, user=self.users[role], role=role)
        return other.slug

    def new_invitation(self) -> int:
        from workspaces import services

        return services.invite(self.workspace, self.owner, "viewer")[0].pk

    def keep_members(self) -> None:
        """Everyone back in their role, after a call that may have changed it (leaving,
        deleting the workspace is refused while it holds runs)."""
        for role in ROLES[1:]:
            Membership.objects.update_or_create(
                workspace=self.workspace, user=self.users[role], defaults={"role": role}
            )

    def new_team(self, name: str | None = None) -> Any:
        spec = parse(minimal_spec(name=name or unique("Team ")))
        return create_team(self.owner, spec, workspace=self.workspace)[0]

    def new_run(self, **fields: Any) -> Any:
        return make_ended_run(
            self.owner,
            events=3,
            days_ago=0,
            workspace=self.workspace,
            team=self.team,
            team_version=self.team.current_version(),
            spec=self.team.spec,
            **fields,
        )

    def waiting_run(self) -> Any:
        from django.db import transaction

        from runs.actions import append

        run = self.new_run(status="waiting", waiting_for="review/0")
        Run.objects.filter(id=run.id).update(finished_at=None)
        with transaction.atomic():
            payload = {"activity_key": "review/0", "node": "lead", "prompt": "Approve?",
                       "answer_schema": None, "kind": "human"}  # fmt: skip
            append(run, [make_event("human.requested", key="review/0", payload=payload)])
        return run

    def new_model(self) -> Any:
        return ModelConfig.objects.create(
            owner=self.owner, workspace=self.workspace, name=unique("m"), provider="offline",
            model="sim",
        )  # fmt: skip

    def new_secret(self) -> Any:
        from teams.model_configs import SecretIn, store_secret

        data = SecretIn(name=unique("KEY"), value="v", hosts=["api.example.com"])
        return store_secret(self.owner, data, self.workspace)[0]

    def new_tool(self) -> Any:
        return CustomTool.objects.create(
            owner=self.owner, workspace=self.workspace, name=unique("lookup_"),
            description="Look up.", url="https://shop.example.com/api/{id}",
            parameters={"type": "object", "properties": {"id": {"type": "string"}}},
        )  # fmt: skip

    def new_publication(self) -> Any:
        from publishing.actions import do_publish

        return do_publish(self.team, self.team.version, unique("shared-desk-"), "", self.owner)

    def new_publication_key(self) -> Any:
        from publishing.models import PublicationKey

        return PublicationKey.issue(self.publication, unique("key"), self.owner)[0]

    def new_schedule(self) -> Any:
        return Schedule.objects.create(team=self.team, cron="0 9 * * 1", armed_at=timezone.now())

    def new_conversation(self) -> Any:
        from conversations.actions import do_start_conversation

        return do_start_conversation(self.owner, self.team, self.team.current_version(), None)

    @property
    def conversation(self) -> Any:
        if not hasattr(self, "_conversation"):
            self._conversation = self.new_conversation()
        return self._conversation

    def new_trigger(self) -> Any:
        return Trigger.objects.create(team=self.team, secret_encrypted=credentials.encrypt("s"))

    def new_webhook(self) -> Any:
        return Webhook.objects.create(
            team=self.team, url="https://93.184.216.34/hook", events=["finished"], secret="s"
        )

    def new_dataset(self) -> Any:
        from evaluations import actions

        dataset = actions.do_create_dataset(self.owner, self.workspace, unique("d"), "")
        actions.do_add_items(dataset, [actions.ItemIn(input={}, expected="x")])
        return dataset

    @property
    def dataset(self) -> Any:
        if not hasattr(self, "_dataset"):
            self._dataset = self.new_dataset()
        return self._dataset

    def new_experiment(self) -> Any:
        from evaluations import actions
        from evaluations.scorers import SPECS

        return actions.do_start_experiment(
            self.owner, self.team.current_version(), self.dataset,
            SPECS.validate_python([{"kind": "exact"}]), 1,
        )  # fmt: skip

    @property
    def experiment(self) -> Any:
        if not hasattr(self, "_experiment"):
            self._experiment = self.new_experiment()
        return self._experiment

    def upload(self) -> dict[str, Any]:
        from django.core.files.uploadedfile import SimpleUploadedFile

        return {"file": SimpleUploadedFile("cases.jsonl", b'{"input": {}}\n')}

    def tool_body(self, name: str) -> dict[str, Any]:
        return {"name": name, "description": "Look up.", "url": "https://shop.example.com/x"}


W = World
#: One sample call per API operation, keyed by method and ninja path. Destructive calls make a
#: fresh object each time; lists and creates name the shared workspace.
API_CALLS: dict[tuple[str, str], Callable[[World, Any], Call]] = {
    ("GET", "/teams"): lambda w, u: Call(query={"workspace": w.slug}),
    ("POST", "/teams"): lambda w, u: Call(body={"name": unique("T"), "workspace": w.slug}),
    ("POST", "/teams/validate"): lambda w, u: Call(
        query={"workspace": w.slug}, body=minimal_spec()
    ),
    ("POST", "/teams/import"): lambda w, u: Call(
        query={"workspace": w.slug}, body=minimal_spec(name=unique("I"))
    ),
    ("GET", "/teams/{team_id}"): lambda w, u: Call({"team_id": w.team.id}),
    ("PUT", "/teams/{team_id}"): lambda w, u: Call({"team_id": w.team.id}, {"spec": w.team.spec}),
    ("DELETE", "/teams/{team_id}"): lambda w, u: Call({"team_id": w.new_team().id}),
    ("GET", "/teams/{team_id}/versions"): lambda w, u: Call({"team_id": w.team.id}),
    ("GET", "/teams/{team_id}/versions/{number}"): lambda w, u: Call(
        {"team_id": w.team.id, "number": 1}
    ),
    ("GET", "/teams/{team_id}/export"): lambda w, u: Call({"team_id": w.team.id}),
    ("POST", "/teams/{team_id}/runs"): lambda w, u: Call({"team_id": w.team.id}, {"input": {}}),
    ("GET", "/runs"): lambda w, u: Call(query={"workspace": w.slug}),
    ("GET", "/runs/{run_id}"): lambda w, u: Call({"run_id": w.run.id}),
    ("GET", "/runs/{run_id}/events"): lambda w, u: Call({"run_id": w.run.id}),
    ("POST", "/runs/{run_id}/cancel"): lambda w, u: Call({"run_id": w.new_run(status="queued").id}),
    ("POST", "/runs/{run_id}/answer"): lambda w, u: Call(
        {"run_id": w.waiting_run().id}, {"answer": "yes"}
    ),
    ("GET", "/runs/{run_id}/audit.jsonl"): lambda w, u: Call({"run_id": w.run.id}),
    ("GET", "/runs/{run_id}/audit.csv"): lambda w, u: Call({"run_id": w.run.id}),
    ("GET", "/runs/{run_id}/verify"): lambda w, u: Call({"run_id": w.run.id}),
    ("GET", "/runs/{run_id}/archive"): lambda w, u: Call({"run_id": w.archived.id}),
    ("GET", "/audit/public-key"): lambda w, u: Call(),
    ("POST", "/runs/{run_id}/replay"): lambda w, u: Call({"run_id": w.run.id}),
    ("POST", "/runs/{run_id}/fork"): lambda w, u: Call({"run_id": w.run.id}, {"from_seq": 1}),
    ("GET", "/artifacts/{artifact_id}"): lambda w, u: Call({"artifact_id": w.artifact.id}),
    ("GET", "/tools"): lambda w, u: Call(query={"workspace": w.slug}),
    ("GET", "/mcp-servers"): lambda w, u: Call(),
    ("GET", "/custom-tools"): lambda w, u: Call(query={"workspace": w.slug}),
    ("POST", "/custom-tools"): lambda w, u: Call(
        body={**w.tool_body(unique("made_")), "workspace": w.slug}
    ),
    ("GET", "/custom-tools/{tool_id}"): lambda w, u: Call({"tool_id": w.tool.id}),
    ("PUT", "/custom-tools/{tool_id}"): lambda w, u: Call(
        {"tool_id": w.tool.id}, w.tool_body(w.tool.name)
    ),
    ("DELETE", "/custom-tools/{tool_id}"): lambda w, u: Call({"tool_id": w.new_tool().id}),
    ("GET", "/models"): lambda w, u: Call(query={"workspace": w.slug}),
    ("POST", "/models"): lambda w, u: Call(
        body={"name": unique("m"), "provider": "offline", "model": "sim", "workspace": w.slug}
    ),
    ("GET", "/models/catalogue"): lambda w, u: Call(),
    ("GET", "/models/{model_id}"): lambda w, u: Call({"model_id": w.model.id}),
    ("PUT", "/models/{model_id}"): lambda w, u: Call(
        {"model_id": w.model.id}, {"name": w.model.name, "provider": "offline", "model": "sim"}
    ),
    ("DELETE", "/models/{model_id}"): lambda w, u: Call({"model_id": w.new_model().id}),
    ("POST", "/models/{model_id}/test"): lambda w, u: Call({"model_id": w.model.id}),
    ("GET", "/credentials"): lambda w, u: Call(),
    ("GET", "/secrets"): lambda w, u: Call(query={"workspace": w.slug}),
    ("POST", "/secrets"): lambda w, u: Call(
        body={"name": unique("K"), "value": "v", "hosts": ["a.example.com"], "workspace": w.slug}
    ),
    ("DELETE", "/secrets/{secret_id}"): lambda w, u: Call({"secret_id": w.new_secret().id}),
    ("GET", "/templates"): lambda w, u: Call(),
    ("POST", "/templates/{slug}/instantiate"): lambda w, u: Call(
        {"slug": w.template.slug}, {"workspace": w.slug}
    ),
    ("GET", "/teams/{team_id}/webhooks"): lambda w, u: Call({"team_id": w.team.id}),
    ("POST", "/teams/{team_id}/webhooks"): lambda w, u: Call(
        {"team_id": w.team.id}, {"url": "https://93.184.216.34/hook", "events": ["finished"]}
    ),
    ("DELETE", "/teams/{team_id}/webhooks/{webhook_id}"): lambda w, u: Call(
        {"team_id": w.team.id, "webhook_id": w.new_webhook().id}
    ),
    ("GET", "/runs/{run_id}/webhook-deliveries"): lambda w, u: Call({"run_id": w.run.id}),
    ("GET", "/teams/{team_id}/schedules"): lambda w, u: Call({"team_id": w.team.id}),
    ("POST", "/teams/{team_id}/schedules"): lambda w, u: Call(
        {"team_id": w.team.id}, {"cron": "0 9 * * 1"}
    ),
    ("PATCH", "/schedules/{schedule_id}"): lambda w, u: Call(
        {"schedule_id": w.schedule.id}, {"name": unique("s")}
    ),
    ("DELETE", "/schedules/{schedule_id}"): lambda w, u: Call({"schedule_id": w.new_schedule().id}),
    ("GET", "/teams/{team_id}/triggers"): lambda w, u: Call({"team_id": w.team.id}),
    ("POST", "/teams/{team_id}/triggers"): lambda w, u: Call(
        {"team_id": w.team.id}, {"name": unique("t")}
    ),
    ("DELETE", "/triggers/{trigger_id}"): lambda w, u: Call({"trigger_id": w.new_trigger().id}),
    ("POST", "/teams/{team_id}/publish"): lambda w, u: Call(
        {"team_id": w.team.id}, {"version": w.team.version, "slug": unique("desk-")}
    ),
    ("GET", "/teams/{team_id}/publications"): lambda w, u: Call({"team_id": w.team.id}),
    ("DELETE", "/publications/{publication_id}"): lambda w, u: Call(
        {"publication_id": w.new_publication().id}
    ),
    ("GET", "/publications/{publication_id}/keys"): lambda w, u: Call(
        {"publication_id": w.publication.id}
    ),
    ("POST", "/publications/{publication_id}/keys"): lambda w, u: Call(
        {"publication_id": w.publication.id}, {"name": unique("key")}
    ),
    ("DELETE", "/publications/{publication_id}/keys/{key_id}"): lambda w, u: Call(
        {"publication_id": w.publication.id, "key_id": w.new_publication_key().id}
    ),
    ("POST", "/teams/{team_id}/conversations"): lambda w, u: Call({"team_id": w.team.id}, {}),
    ("GET", "/teams/{team_id}/conversations"): lambda w, u: Call({"team_id": w.team.id}),
    ("GET", "/conversations/{conversation_id}"): lambda w, u: Call(
        {"conversation_id": w.conversation.id}
    ),
    ("POST", "/conversations/{conversation_id}/messages"): lambda w, u: Call(
        {"conversation_id": w.new_conversation().id}, {"content": "Hello"}
    ),
    ("POST", "/teams/{team_id}/nodes/{node_id}/test"): lambda w, u: Call(
        {"team_id": w.team.id, "node_id": "lead"},
        {"spec": w.team.spec, "input": {"task": "x"}, "model": "offline"},
    ),
    ("GET", "/inbox"): lambda w, u: Call(),
    ("GET", "/runs/{run_id}/evidence.zip"): lambda w, u: Call({"run_id": w.run.id}),
    ("GET", "/workspaces"): lambda w, u: Call(),
    ("POST", "/workspaces"): lambda w, u: Call(body={"name": unique("W")}),
    ("GET", "/workspaces/{slug}"): lambda w, u: Call({"slug": w.slug}),
    ("PATCH", "/workspaces/{slug}"): lambda w, u: Call({"slug": w.slug}, {"name": "Shared"}),
    ("DELETE", "/workspaces/{slug}"): lambda w, u: Call({"slug": w.new_workspace()}),
    ("GET", "/workspaces/{slug}/members"): lambda w, u: Call({"slug": w.slug}),
    ("POST", "/workspaces/{slug}/members"): lambda w, u: Call(
        {"slug": w.slug}, {"username": make_user(unique("m")).username, "role": "viewer"}
    ),
    ("PATCH", "/workspaces/{slug}/members/{username}"): lambda w, u: Call(
        {"slug": w.slug, "username": w.new_member()}, {"role": "runner"}
    ),
    ("DELETE", "/workspaces/{slug}/members/{username}"): lambda w, u: Call(
        {"slug": w.slug, "username": w.new_member()}
    ),
    ("POST", "/workspaces/{slug}/leave"): lambda w, u: Call({"slug": w.new_workspace()}),
    ("GET", "/workspaces/{slug}/invitations"): lambda w, u: Call({"slug": w.slug}),
    ("POST", "/workspaces/{slug}/invitations"): lambda w, u: Call(
        {"slug": w.slug}, {"role": "viewer"}
    ),
    ("DELETE", "/workspaces/{slug}/invitations/{invitation_id}"): lambda w, u: Call(
        {"slug": w.slug, "invitation_id": w.new_invitation()}
    ),
    ("GET", "/workspaces/{slug}/activity"): lambda w, u: Call({"slug": w.slug}),
    ("GET", "/datasets"): lambda w, u: Call(query={"workspace": w.slug}),
    ("POST", "/datasets"): lambda w, u: Call(body={"name": unique("d"), "workspace": w.slug}),
    ("GET", "/datasets/{dataset_id}"): lambda w, u: Call({"dataset_id": w.dataset.id}),
    ("DELETE", "/datasets/{dataset_id}"): lambda w, u: Call({"dataset_id": w.new_dataset().id}),
    ("GET", "/datasets/{dataset_id}/items"): lambda w, u: Call({"dataset_id": w.dataset.id}),
    ("POST", "/datasets/{dataset_id}/items"): lambda w, u: Call(
        {"dataset_id": w.dataset.id}, {"items": [{"input": {}}]}
    ),
    ("PUT", "/datasets/{dataset_id}/items/{item_id}"): lambda w, u: Call(
        {"dataset_id": (d := w.new_dataset()).id, "item_id": d.items.get().id}, {"input": {}}
    ),
    ("DELETE", "/datasets/{dataset_id}/items/{item_id}"): lambda w, u: Call(
        {"dataset_id": (d := w.new_dataset()).id, "item_id": d.items.get().id}
    ),
    ("POST", "/datasets/{dataset_id}/items/upload"): lambda w, u: Call(
        {"dataset_id": w.dataset.id}, form=w.upload()
    ),
    ("POST", "/datasets/{dataset_id}/items/from-runs"): lambda w, u: Call(
        {"dataset_id": w.dataset.id}, {"run_ids": [str(w.run.id)]}
    ),
    ("GET", "/experiments"): lambda w, u: Call(query={"workspace": w.slug}),
    ("POST", "/experiments"): lambda w, u: Call(
        body={"team_id": w.team.id, "dataset_id": w.dataset.id, "scorers": [{"kind": "exact"}]}
    ),
    ("GET", "/experiments/compare"): lambda w, u: Call(
        query={"a": w.experiment.id, "b": w.experiment.id}
    ),
    ("GET", "/experiments/{experiment_id}"): lambda w, u: Call({"experiment_id": w.experiment.id}),
    ("GET", "/experiments/{experiment_id}/items"): lambda w, u: Call(
        {"experiment_id": w.experiment.id}
    ),
    ("POST", "/experiments/{experiment_id}/cancel"): lambda w, u: Call(
        {"experiment_id": w.new_experiment().id}
    ),
    # Unsigned: refused by the trigger's own signature check, the same for everyone.
    ("POST", "/hooks/{token}"): lambda w, u: Call(
        {"token": w.new_trigger().token}, {}, public_status=401
    ),
}


@dataclass
class PageCall:
    args: list[Any] = field(default_factory=list)
    data: dict[str, Any] | None = None
    #: Pages that work in the session's workspace: a non-member works in their own.
    in_current_workspace: bool = False


#: One sample call per page and method, keyed by URL name and method.
PAGE_CALLS: dict[tuple[str, str], Callable[[World, Any], PageCall]] = {
    ("team-list", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("team-list", "POST"): lambda w, u: PageCall(
        data={"name": unique("P"), "pattern": "supervisor"}, in_current_workspace=True
    ),
    ("team-detail", "GET"): lambda w, u: PageCall([w.team.id]),
    ("team-rename", "POST"): lambda w, u: PageCall([w.team.id], {"name": w.team.name}),
    ("team-duplicate", "POST"): lambda w, u: PageCall([w.team.id], {}),
    ("team-delete", "POST"): lambda w, u: PageCall([w.new_team().id], {}),
    ("team-publishing", "GET"): lambda w, u: PageCall([w.team.id]),
    ("team-publishing", "POST"): lambda w, u: PageCall(
        [w.team.id], {"version": w.team.version, "slug": unique("page-desk-")}
    ),
    ("publication-unpublish", "POST"): lambda w, u: PageCall([w.new_publication().id], {}),
    ("publication-key-issue", "POST"): lambda w, u: PageCall([w.publication.id], {"name": "k"}),
    ("publication-key-revoke", "POST"): lambda w, u: PageCall(
        [w.publication.id, w.new_publication_key().id], {}
    ),
    ("token-list", "GET"): lambda w, u: PageCall(),
    ("token-revoke", "POST"): lambda w, u: PageCall([ApiToken.issue(u, "t")[0].id], {}),
    ("model-list", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("start", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("start-connect", "POST"): lambda w, u: PageCall(
        data={"preset": "openai", "model": "m", "name": unique("c"), "key": "sk-test-12345678"},
        in_current_workspace=True,
    ),
    ("model-list", "POST"): lambda w, u: PageCall(
        data={"name": unique("pm"), "provider": "offline", "model": "sim"},
        in_current_workspace=True,
    ),
    ("model-delete", "POST"): lambda w, u: PageCall([w.new_model().id], {}),
    ("secret-list", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("secret-list", "POST"): lambda w, u: PageCall(
        data={"name": unique("PK"), "value": "v", "hosts": "a.example.com"},
        in_current_workspace=True,
    ),
    ("secret-delete", "POST"): lambda w, u: PageCall([w.new_secret().id], {}),
    ("custom-tool-list", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("custom-tool-list", "POST"): lambda w, u: PageCall(
        data={
            **w.tool_body(unique("page_")),
            "method": "GET",
            "parameters": "",
            "headers": "",
            "timeout_s": 10,
        },
        in_current_workspace=True,
    ),
    ("custom-tool-delete", "POST"): lambda w, u: PageCall([w.new_tool().id], {}),
    ("template-gallery", "GET"): lambda w, u: PageCall(),
    ("template-use", "POST"): lambda w, u: PageCall(
        [w.template.slug], {}, in_current_workspace=True
    ),
    ("team-builder", "GET"): lambda w, u: PageCall([w.team.id]),
    ("team-automation", "GET"): lambda w, u: PageCall([w.team.id]),
    ("team-automation", "POST"): lambda w, u: PageCall(
        [w.team.id], {"cron": "0 9 * * 1-5", "timezone": "UTC", "input": "{}", "enabled": "on"}
    ),
    ("schedule-preview", "GET"): lambda w, u: PageCall([w.team.id]),
    ("schedule-switch", "POST"): lambda w, u: PageCall([w.schedule.id], {"enabled": "on"}),
    ("schedule-delete", "POST"): lambda w, u: PageCall([w.new_schedule().id], {}),
    ("trigger-create", "POST"): lambda w, u: PageCall(
        [w.team.id], {"name": unique("t"), "scheme": "orchestrator", "input_pointer": ""}
    ),
    ("trigger-delete", "POST"): lambda w, u: PageCall([w.new_trigger().id], {}),
    ("run-list", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("run-detail", "GET"): lambda w, u: PageCall([w.run.id]),
    ("run-audit", "GET"): lambda w, u: PageCall([w.run.id]),
    ("dataset-list", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("dataset-list", "POST"): lambda w, u: PageCall(
        data={"name": unique("pd")}, in_current_workspace=True
    ),
    ("dataset-detail", "GET"): lambda w, u: PageCall([w.dataset.id]),
    ("dataset-upload", "POST"): lambda w, u: PageCall([w.dataset.id], w.upload()),
    ("dataset-experiment", "GET"): lambda w, u: PageCall([w.dataset.id]),
    ("dataset-experiment", "POST"): lambda w, u: PageCall(
        [w.dataset.id], {"team": w.team.id, "concurrency": 1, "exact": "on"}
    ),
    ("conversation-detail", "GET"): lambda w, u: PageCall([w.conversation.id]),
    ("team-conversations", "GET"): lambda w, u: PageCall([w.team.id]),
    ("team-conversations", "POST"): lambda w, u: PageCall([w.team.id], {}),
    ("experiment-detail", "GET"): lambda w, u: PageCall([w.experiment.id]),
    ("experiment-compare", "GET"): lambda w, u: PageCall([w.experiment.id, w.experiment.id]),
    ("dashboard", "GET"): lambda w, u: PageCall(in_current_workspace=True),
    ("inbox", "GET"): lambda w, u: PageCall(),
    ("workspace-list", "GET"): lambda w, u: PageCall(),
    ("workspace-list", "POST"): lambda w, u: PageCall(data={"name": unique("PW")}),
    ("workspace-roles", "GET"): lambda w, u: PageCall(),
    ("workspace-switch", "POST"): lambda w, u: PageCall(data={"workspace": w.slug}),
    ("workspace-settings", "GET"): lambda w, u: PageCall([w.slug]),
    ("workspace-settings", "POST"): lambda w, u: PageCall(
        [w.slug], {"name": "Shared", "retention_days": ""}
    ),
    ("workspace-members", "GET"): lambda w, u: PageCall([w.slug]),
    ("workspace-member-add", "POST"): lambda w, u: PageCall(
        [w.slug], {"username": make_user(unique("pm")).username, "role": "viewer"}
    ),
    ("workspace-member", "POST"): lambda w, u: PageCall(
        [w.slug, w.new_member()], {"role": "runner"}
    ),
    ("workspace-leave", "POST"): lambda w, u: PageCall([w.slug], {}),
    ("workspace-invite", "POST"): lambda w, u: PageCall([w.slug], {"role": "viewer"}),
    ("workspace-invitation-revoke", "POST"): lambda w, u: PageCall(
        [w.slug, w.new_invitation()], {}
    ),
    ("workspace-activity", "GET"): lambda w, u: PageCall([w.slug]),
}
#: URL names that are no workspace's: accounts, health and metrics, the home redirect.
OUTSIDE_WORKSPACES = {"home", "signup", "login", "logout", "healthz", "readyz", "metrics",
                      # single sign-on, and an invitation link (its token is its own check)
                      "oidc-start", "oidc-callback", "workspace-invitation",
                      # a published team's endpoints: its key is their own check
                      "publication-runs", "publication-run",
                      # the chat widget's: the Origin the publication lists, and the
                      # conversation's own token
                      "widget-start", "widget-read", "widget-send",
                      # the first widget's paths, with the token in them: refused (410)
                      "widget-token-in-path"}  # fmt: skip


def expected(permission: str | None, caller: str) -> str:
    if permission is None:
        return "ok"
    if caller == NON_MEMBER:
        return "404"
    return "ok" if caller in roles.roles_with(permission) else "403"


def outcome(status: int) -> str:
    return "ok" if status in (200, 201, 204, 302) else str(status)


def api_operations() -> list[tuple[str, str, Any]]:
    found = []
    for _, router in api._routers:
        for path, view in router.path_operations.items():
            for operation in view.operations:
                for method in operation.methods:
                    plain = re.sub(r"\{\w+:(\w+)\}", r"{\1}", path)
                    found.append((method, plain, operation.view_func))
    return found


def page_patterns() -> list[URLPattern]:
    patterns: list[URLPattern] = []

    def walk(items: list[Any], prefix: str) -> None:
        for item in items:
            route = prefix + str(item.pattern)
            if route.startswith(("admin/", "api/")):
                continue
            if isinstance(item, URLResolver):
                walk(item.url_patterns, route)
            else:
                patterns.append(item)

    walk(get_resolver().url_patterns, "")
    return patterns


@pytest.fixture
def world(tmp_path: Any, settings: Any) -> World:
    settings.QUOTA_API_REQUESTS = ""
    settings.QUOTA_RUNS = ""
    settings.QUOTA_RUNS_IN_FLIGHT = 0
    return World(tmp_path, settings)


@pytest.fixture
def clients(world: World) -> dict[str, Client]:
    made = {}
    for caller in CALLERS:
        client = Client()
        client.force_login(world.users[caller])
        session = client.session
        session["workspace"] = world.slug  # the page's workspace: ignored for a non-member
        session.save()
        made[caller] = client
    return made


def test_every_api_operation_answers_as_its_declared_permission_says(world, clients):
    wrong = []
    for method, path, view in api_operations():
        has_row, permission = declared(view)
        if not has_row:
            wrong.append(f"{method} {path}: declares no permission (@requires)")
            continue
        sample = API_CALLS.get((method, path))
        if sample is None:
            wrong.append(f"{method} {path}: no sample call in API_CALLS")
            continue
        for caller in CALLERS:
            call = sample(world, world.users[caller])
            url = "/api" + path.format(**call.params) + query_text(call.query)
            if call.form is not None:
                response = clients[caller].post(url, call.form)
            else:
                response = clients[caller].generic(
                    method,
                    url,
                    json.dumps(call.body) if call.body is not None else "",
                    content_type="application/json",
                )
            world.keep_members()
            want = expected(permission, caller)
            if permission is None and call.public_status is not None:
                want = str(call.public_status)
            got = outcome(response.status_code)
            if got != want:
                wrong.append(
                    f"{method} {path} as {caller}: {got} (wanted {want}) {response.content[:200]!r}"
                )
            elif got == "403":
                assert "needs the" in response.json()["detail"], response.content
            elif got == "404" and caller == NON_MEMBER:
                names = NothingThere(world, call.params)
                url = "/api" + path.format(**names(call.params)) + query_text(names(call.query))
                nothing = (
                    clients[caller].post(url, names(call.form))
                    if call.form is not None
                    else clients[caller].generic(
                        method,
                        url,
                        json.dumps(names(call.body)) if call.body is not None else "",
                        content_type="application/json",
                    )
                )
                wrong += names.compare(f"{method} {path}", response, nothing)
    assert not wrong, "\n".join(wrong)


def test_every_page_answers_as_its_declared_permission_says(world, clients):
    wrong = []
    for pattern in page_patterns():
        if pattern.name in OUTSIDE_WORKSPACES:
            continue
        has_row, declaration = declared(pattern.callback)
        if not has_row:
            wrong.append(f"page {pattern.name}: declares no permission (@page)")
            continue
        methods = [m for m in ("GET", "POST") if (pattern.name, m) in PAGE_CALLS]
        if not methods:
            wrong.append(f"page {pattern.name}: no sample call in PAGE_CALLS")
        for method in methods:
            permission = declaration.get(method) if isinstance(declaration, dict) else declaration
            for caller in CALLERS:
                call = PAGE_CALLS[(pattern.name, method)](world, world.users[caller])
                url = _reverse(pattern.name, call.args)
                client = clients[caller]
                if call.in_current_workspace:
                    # Back in the shared workspace: an earlier page (a new workspace, the
                    # switcher) may have moved the session elsewhere.
                    session = client.session
                    session["workspace"] = world.slug
                    session.save()
                response = client.post(url, call.data) if method == "POST" else client.get(url)
                world.keep_members()
                want = expected(permission, caller)
                if call.in_current_workspace and caller == NON_MEMBER:
                    want = "ok"  # in their own workspace: nothing of the shared one
                    if method == "GET":
                        assert "Shared desk" not in response.content.decode(), pattern.name
                got = outcome(response.status_code)
                if got != want:
                    wrong.append(f"page {pattern.name} {method} as {caller}: {got} (wanted {want})")
                elif got == "403":
                    assert "needs the" in response.content.decode(), pattern.name
                elif got == "404" and caller == NON_MEMBER:
                    names = NothingThere(world, call.args)
                    url = _reverse(pattern.name, names(call.args))
                    nothing = (
                        client.post(url, names(call.data)) if method == "POST" else client.get(url)
                    )
                    wrong += names.compare(f"page {pattern.name} {method}", response, nothing)
    assert not wrong, "\n".join(wrong)


def query_text(query: dict[str, Any]) -> str:
    return "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""


def nothing_like(value: Any) -> Any:
    """An id of the same shape as ``value`` that names nothing."""
    if isinstance(value, int) or str(value).isdigit():
        return type(value)(987654321)
    try:
        uuid.UUID(str(value))
    except ValueError:
        return f"no-such-{value}"
    return type(value)(str(uuid.uuid4()))


class NothingThere:
    """Swaps every id of a call (its path arguments, and the workspace's slug wherever it
    appears) for one of the same shape that names nothing; ``compare`` says whether the answer
    to that call differs from a non-member's 404 in anything but the ids themselves."""

    def __init__(self, world: World, ids: Any) -> None:
        given = [*(ids.values() if isinstance(ids, dict) else ids), world.slug]
        public = {world.template.slug}  # the gallery's, no workspace's: not swapped
        self.swapped = {
            str(value): nothing_like(value)
            for value in given
            if value is not None and str(value) not in public
        }

    def __call__(self, found: Any) -> Any:
        if isinstance(found, dict):
            return {key: self(value) for key, value in found.items()}
        if isinstance(found, list):
            return [self(value) for value in found]
        if isinstance(found, (str, int, uuid.UUID)):
            return self.swapped.get(str(found), found)
        if hasattr(found, "seek"):
            found.seek(0)  # an uploaded file, sent again
        return found

    def compare(self, what: str, response: Any, nothing: Any) -> list[str]:
        theirs = plain(response, list(self.swapped))
        missing = plain(nothing, list(self.swapped.values()))
        if nothing.status_code == 404 and theirs == missing:
            return []
        return [f"{what}: a non-member's 404 {theirs[:300]!r} differs from nothing there's "
                f"{nothing.status_code} {missing[:300]!r}"]  # fmt: skip


def plain(response: Any, ids: list[Any]) -> str:
    """The body with each of ``ids`` written ``<id>``."""
    text = response.content.decode()
    for value in sorted({str(v) for v in ids}, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", "<id>", text)
    return text


def _reverse(name: str, args: list[Any]) -> str:
    from django.urls import reverse

    return reverse(name, args=args)


def test_the_websocket_declares_a_permission_of_the_matrix():
    assert roles.roles_with(WATCH_PERMISSION) == roles.EVERYONE  # every member may watch


def test_the_experiment_websocket_asks_what_the_experiment_page_asks():
    from evaluations.views import experiment_detail

    declared_there = experiment_detail.workspace_permission  # type: ignore[attr-defined]
    assert declared_there == EXPERIMENT_WATCH_PERMISSION
    assert roles.roles_with(EXPERIMENT_WATCH_PERMISSION) == roles.READERS  # not the auditor


def test_the_samples_name_only_routes_that_exist():
    operations = {(m, p) for m, p, _ in api_operations()}
    assert set(API_CALLS) <= operations, set(API_CALLS) - operations
    names = {p.name for p in page_patterns()}
    assert {name for name, _ in PAGE_CALLS} <= names
