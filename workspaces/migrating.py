"""What the migrations that moved everything into workspaces share. It works on the
historical models a migration is given (``apps``), never on today's."""

from typing import Any

from django.conf import settings
from django.db.models import OuterRef, Subquery
from django.utils.text import slugify


def ensure_personal_workspaces(apps: Any) -> None:
    """Every account without a personal workspace gets one, as its owner. Each migration
    that moves rows calls this first: an account made while only some migrations had run
    (a partial rollback, say) still has somewhere to move to."""
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    Workspace = apps.get_model("workspaces", "Workspace")
    Membership = apps.get_model("workspaces", "Membership")
    taken = set(Workspace.objects.values_list("slug", flat=True))
    for user in User.objects.filter(personal_workspace__isnull=True).order_by("pk").iterator():
        base = slugify(user.username)[:50] or "workspace"
        slug, n = base, 1
        while slug in taken:
            n += 1
            slug = f"{base}-{n}"
        taken.add(slug)
        workspace = Workspace.objects.create(
            slug=slug, name=user.username, personal_for=user, created_by=user
        )
        Membership.objects.create(workspace=workspace, user=user, role="owner")


def into_personal_workspaces(apps: Any, app_label: str, model_names: tuple[str, ...]) -> None:
    """Each row of these models without a workspace goes to its owner's personal one."""
    ensure_personal_workspaces(apps)
    Workspace = apps.get_model("workspaces", "Workspace")
    personal = Workspace.objects.filter(personal_for_id=OuterRef("owner_id")).values("pk")[:1]
    for name in model_names:
        model = apps.get_model(app_label, name)
        model.objects.filter(workspace__isnull=True).update(workspace_id=Subquery(personal))


def workspace_field(null: bool) -> Any:
    """The ``workspace`` foreign key as the moving migrations add it (null) and then
    require it."""
    from django.db import models

    return models.ForeignKey(
        null=null,
        on_delete=models.CASCADE,
        related_name="%(class)ss",
        to="workspaces.workspace",
    )
