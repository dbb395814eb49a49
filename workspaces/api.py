"""The workspaces part of the JSON API: workspaces, their members, invitation links and the
activity log. Every check is ``workspaces.access``'s and every rule ``workspaces.services``'s;
this module only translates between HTTP and them.

- ``/api/workspaces``: the caller's workspaces with their role; create one (as its owner).
- ``/api/workspaces/{slug}``: read, rename or set its retention period, delete (not a personal one; not with active runs).
- ``/api/workspaces/{slug}/members``: list, add by username, change a role, remove.
- ``/api/workspaces/{slug}/invitations``: one-time links (the URL is shown once), revoke.
- ``/api/workspaces/{slug}/activity``: the log, filtered, as JSON, CSV or JSON Lines.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, StreamingHttpResponse
from ninja import Field, Query, Router, Schema, Status
from pydantic import field_validator

from teams.schemas import ErrorOut

from . import access, activity, services
from .models import PERSONAL_FIRST, Invitation, Membership, Workspace
from .operations import requires
from .roles import Role

router = Router(tags=["workspaces"])
REFUSED = {403: ErrorOut, 404: ErrorOut}
PAGE_SIZE = 100


class WorkspaceIn(Schema):
    name: str = Field(min_length=1, max_length=120)

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("A workspace needs a name.")
        return value.strip()


class WorkspaceChange(Schema):
    name: str | None = Field(None, min_length=1, max_length=120)
    retention_days: int | None = Field(
        None,
        ge=1,
        le=services.MAX_RETENTION_DAYS,
        description="Days a finished run stays in the database before it is archived; "
        "null: the operator's RUN_RETENTION_DAYS, which is also the most it may be.",
    )

    @field_validator("name")
    @classmethod
    def _stripped(cls, value: str | None) -> str | None:
        return None if value is None else WorkspaceIn._stripped(value)

    @field_validator("retention_days")
    @classmethod
    def _within_the_operators(cls, value: int | None) -> int | None:
        return services.check_retention(value)


class WorkspaceOut(Schema):
    slug: str
    name: str
    personal: bool
    role: str | None = Field(description="The caller's role in this workspace.")
    created_at: datetime
    retention_days: int | None = Field(
        description="The workspace's own retention period in days; null: the server's."
    )
    effective_retention_days: int | None = Field(
        description="After how many days its finished runs are archived; null: never."
    )


class MemberIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    role: Role


class RoleIn(Schema):
    role: Role


class MemberOut(Schema):
    username: str
    role: str
    added_by: str | None
    joined_at: datetime


class InvitationIn(Schema):
    role: Role
    email: str = Field("", max_length=254, description="Only this address may accept it.")

    @field_validator("email")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        if value:
            try:
                validate_email(value)
            except DjangoValidationError:
                raise ValueError("Enter a valid email address, or none.") from None
        return value


class InvitationOut(Schema):
    id: int
    role: str
    email: str
    hint: str = Field(description="The link token's first characters.")
    status: Literal["open", "used", "expired", "revoked"]
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    used_by: str | None
    url: str | None = Field(None, description="The link to send; only in the answer that made it.")


class ActivityOut(Schema):
    at: datetime
    actor: str | None
    action: str
    target: str
    detail: dict[str, Any]


class ActivityFilters(Schema):
    action: str | None = Field(None, max_length=40, description="An action or its prefix.")
    actor: str | None = Field(None, max_length=150, description="A username.")
    since: datetime | None = None
    until: datetime | None = None
    format: Literal["json", "csv", "jsonl"] = "json"
    page: int = Field(1, ge=1, le=100_000)


def _workspace(request: HttpRequest, slug: str, permission: str) -> Workspace:
    return access.workspace_for(request.auth, slug, permission)


def workspace_out(workspace: Workspace, user: Any) -> dict[str, Any]:
    return {
        "slug": workspace.slug,
        "name": workspace.name,
        "personal": workspace.is_personal,
        "role": access.role_in(user, workspace),
        "created_at": workspace.created_at,
        "retention_days": workspace.retention_days,
        "effective_retention_days": workspace.effective_retention_days,
    }


def member_out(membership: Membership) -> dict[str, Any]:
    return {
        "username": membership.user.get_username(),
        "role": membership.role,
        "added_by": membership.added_by.get_username() if membership.added_by else None,
        "joined_at": membership.created_at,
    }


def invitation_out(invitation: Invitation, url: str | None = None) -> dict[str, Any]:
    def name(user: Any) -> str | None:
        return user.get_username() if user else None

    return {
        "id": invitation.pk,
        "role": invitation.role,
        "email": invitation.email,
        "hint": invitation.hint,
        "status": invitation.status,
        "created_by": name(invitation.created_by),
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "used_by": name(invitation.used_by),
        "url": url,
    }


@router.get("/workspaces", response=list[WorkspaceOut], url_name="workspaces")
@requires(None)
def list_workspaces(request: HttpRequest) -> Any:
    found = access.member_workspaces(request.auth).order_by(PERSONAL_FIRST, "name")
    return [workspace_out(w, request.auth) for w in found]


@router.post("/workspaces", response={201: WorkspaceOut, 403: ErrorOut})
@requires(None)
def create_workspace(request: HttpRequest, body: WorkspaceIn) -> Any:
    if getattr(request.auth, "token_scope", None) is not None:
        raise access.Forbidden("An API token is limited to its workspace; it cannot make one.")
    return Status(201, workspace_out(services.new_workspace(body.name, request.auth), request.auth))


@router.get("/workspaces/{slug}", response={200: WorkspaceOut, **REFUSED}, url_name="workspace")
@requires("workspace.view")
def read_workspace(request: HttpRequest, slug: str) -> Any:
    return workspace_out(_workspace(request, slug, "workspace.view"), request.auth)


@router.patch("/workspaces/{slug}", response={200: WorkspaceOut, **REFUSED})
@requires("workspace.edit")
def change_workspace(request: HttpRequest, slug: str, body: WorkspaceChange) -> Any:
    """Rename it, set its retention period, or both (only the fields given change)."""
    workspace = _workspace(request, slug, "workspace.edit")
    if body.name is not None:
        services.rename(workspace, request.auth, body.name)
    if "retention_days" in body.model_fields_set:
        services.set_retention(workspace, request.auth, body.retention_days)
    return workspace_out(workspace, request.auth)


@router.delete("/workspaces/{slug}", response={204: None, **REFUSED, 409: ErrorOut})
@requires("workspace.delete")
def delete_workspace(request: HttpRequest, slug: str) -> Any:
    services.delete_workspace(_workspace(request, slug, "workspace.delete"), request.auth)
    return Status(204, None)


@router.get("/workspaces/{slug}/members", response={200: list[MemberOut], **REFUSED})
@requires("members.view")
def list_members(request: HttpRequest, slug: str) -> Any:
    workspace = _workspace(request, slug, "members.view")
    found = workspace.memberships.select_related("user", "added_by").order_by("user__username")
    return [member_out(m) for m in found]


@router.post("/workspaces/{slug}/members", response={201: MemberOut, **REFUSED, 409: ErrorOut})
@requires("members.manage")
def add_member(request: HttpRequest, slug: str, body: MemberIn) -> Any:
    workspace = _workspace(request, slug, "members.manage")
    membership = services.add_member(workspace, request.auth, body.username, body.role)
    return Status(201, member_out(membership))


@router.patch(
    "/workspaces/{slug}/members/{username}", response={200: MemberOut, **REFUSED, 409: ErrorOut}
)
@requires("members.manage")
def change_member(request: HttpRequest, slug: str, username: str, body: RoleIn) -> Any:
    workspace = _workspace(request, slug, "members.manage")
    return member_out(services.change_role(workspace, request.auth, username, body.role))


@router.delete(
    "/workspaces/{slug}/members/{username}", response={204: None, **REFUSED, 409: ErrorOut}
)
@requires("members.manage")
def remove_member(request: HttpRequest, slug: str, username: str) -> Any:
    """Removes a member (leaving is ``POST /workspaces/{slug}/leave``)."""
    services.remove_member(_workspace(request, slug, "members.manage"), request.auth, username)
    return Status(204, None)


@router.post("/workspaces/{slug}/leave", response={204: None, **REFUSED, 409: ErrorOut})
@requires("workspace.view")
def leave_workspace(request: HttpRequest, slug: str) -> Any:
    """Leaves the workspace: any member may, except its last owner (409) and the person of a
    personal workspace."""
    workspace = _workspace(request, slug, "workspace.view")
    services.remove_member(workspace, request.auth, request.auth.get_username())
    return Status(204, None)


@router.get("/workspaces/{slug}/invitations", response={200: list[InvitationOut], **REFUSED})
@requires("members.manage")
def list_invitations(request: HttpRequest, slug: str) -> Any:
    workspace = _workspace(request, slug, "members.manage")
    found = workspace.invitations.select_related("created_by", "used_by")
    return [invitation_out(i) for i in found]


@router.post("/workspaces/{slug}/invitations", response={201: InvitationOut, **REFUSED})
@requires("members.manage")
def create_invitation(request: HttpRequest, slug: str, body: InvitationIn) -> Any:
    """A one-time link that makes whoever opens it while logged in a member with ``role``
    (the email, when given, must be their account's). The URL is in this answer only."""
    workspace = _workspace(request, slug, "members.manage")
    invitation, token = services.invite(workspace, request.auth, body.role, body.email)
    return Status(201, invitation_out(invitation, invitation_url(token)))


@router.delete(
    "/workspaces/{slug}/invitations/{int:invitation_id}", response={204: None, **REFUSED}
)
@requires("members.manage")
def revoke_invitation(request: HttpRequest, slug: str, invitation_id: int) -> Any:
    workspace = _workspace(request, slug, "members.manage")
    services.revoke_invitation(workspace, request.auth, invitation_id)
    return Status(204, None)


def invitation_url(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/invitations/{token}"


@router.get("/workspaces/{slug}/activity", response={200: list[ActivityOut], **REFUSED})
@requires("activity.view")
def list_activity(request: HttpRequest, slug: str, filters: Query[ActivityFilters]) -> Any:
    """The workspace's administrative changes, newest first, ``PAGE_SIZE`` a page;
    ``?format=csv`` or ``jsonl`` streams every matching entry as a download instead."""
    workspace = _workspace(request, slug, "activity.view")
    wanted = filters.model_dump(exclude={"format", "page"})
    found = activity.entries(workspace, **wanted)
    if filters.format == "json":
        start = (filters.page - 1) * PAGE_SIZE
        return [activity.as_dict(e) for e in found[start : start + PAGE_SIZE]]
    format = filters.format
    lines = activity.csv_lines(found) if format == "csv" else activity.jsonl_lines(found)
    kind = "text/csv" if format == "csv" else "application/x-ndjson"
    response = StreamingHttpResponse(lines, content_type=f"{kind}; charset=utf-8")
    name = f"{workspace.slug}-activity.{format}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def install_error_answers(api: Any) -> None:
    """Refusals of ``workspaces.access`` and ``services`` as the contract's error body."""

    def answer(status: int) -> Any:
        return lambda request, exc: api.create_response(
            request, {"detail": str(exc)}, status=status
        )

    api.add_exception_handler(access.Forbidden, answer(403))
    api.add_exception_handler(access.NotFound, answer(404))
    api.add_exception_handler(services.Conflict, answer(409))
