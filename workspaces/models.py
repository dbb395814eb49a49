"""Workspaces: what a group of people shares (teams, runs and their audit trails, models,
secrets, tools, webhooks), and who is in it with which role (``workspaces.roles``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from .roles import Role


class Workspace(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    #: The user whose personal workspace this is (every user has exactly one); None for a
    #: shared workspace someone created.
    personal_for = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_workspace",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.personal_for_id is not None


class Membership(models.Model):
    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["workspace", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"


def free_slug(wanted: str, *, model: Any = Workspace) -> str:
    """``wanted`` made a slug, with -2, -3 … added until no workspace has it."""
    base = slugify(wanted)[:50] or "workspace"
    slug, n = base, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_workspace(name: str, *, owner: Any, personal: bool = False) -> Workspace:
    """A new workspace with ``owner`` as its owner; a slug taken meanwhile is retried."""
    for _ in range(5):
        try:
            with transaction.atomic():
                workspace = Workspace.objects.create(
                    slug=free_slug(name),
                    name=name,
                    personal_for=owner if personal else None,
                    created_by=owner,
                )
                Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
                return workspace
        except IntegrityError:
            if personal and Workspace.objects.filter(personal_for=owner).exists():
                return Workspace.objects.get(personal_for=owner)
    raise IntegrityError(f"no free slug for the workspace {name!r}")


def personal_workspace(user: Any) -> Workspace:
    """``user``'s personal workspace, made on first need for a user who predates workspaces."""
    found = Workspace.objects.filter(personal_for=user).first()
    return found or create_workspace(user.get_username(), owner=user, personal=True)


def give_personal_workspace(
    sender: Any, instance: Any, created: bool, raw: bool = False, **_: Any
) -> None:
    """Every new account gets its personal workspace (signup, OIDC, createsuperuser, admin)."""
    if created and not raw:
        personal_workspace(instance)


class InWorkspace(models.Model):
    """Something that belongs to a workspace: everyone's access to it goes by its workspace
    (``workspaces.access``); ``owner`` stays as who made it (or started it, for a run).

    A row saved without a workspace goes to its owner's personal workspace, which is where
    everything made before workspaces went too (the migrations).
    """

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="%(class)ss")

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.place()
        super().save(*args, **kwargs)

    def place(self) -> Workspace:
        """The row's workspace, its owner's personal one when none was given."""
        if self.workspace_id is None and getattr(self, "owner_id", None) is not None:
            self.workspace = personal_workspace(self.owner)  # type: ignore[attr-defined]
        return self.workspace
