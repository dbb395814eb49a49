"""Workspaces: what a group of people shares (teams, runs and their audit trails, models,
secrets, tools, webhooks), and who is in it with which role (``workspaces.roles``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import slugify

from orchestration_site import tokens

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
    #: Finished runs that ended longer ago than this are archived (runs/archive.py); None
    #: follows the operator's RUN_RETENTION_DAYS, which is also the most it may be.
    retention_days = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.personal_for_id is not None

    @property
    def effective_retention_days(self) -> int | None:
        """After how many days its finished runs are archived; None: never."""
        return effective_retention_days(self.retention_days)


def effective_retention_days(own: int | None) -> int | None:
    """A workspace's period under the operator's: RUN_RETENTION_DAYS is the default and the
    ceiling (0 sets neither), so a workspace may keep runs in the database for less time than
    the operator does, never longer."""
    ceiling = settings.RUN_RETENTION_DAYS or None
    if own is None:
        return ceiling
    return own if ceiling is None else min(own, ceiling)


#: Ordering that lists a personal workspace before the shared ones.
PERSONAL_FIRST = models.F("personal_for").asc(nulls_last=True)


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


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def usable(self) -> InvitationQuerySet:
        return self.filter(
            used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(models.Model):
    """A one-time link that makes its acceptor a member with ``role``. Only the token's
    digest is kept (as for sign-up invitations and API tokens): a database reader cannot
    join with it."""

    PREFIX = "wsi_"

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices)
    email = models.EmailField(
        blank=True, help_text="When set, only an account with this address may accept."
    )
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation to {self.workspace} as {self.role}"

    digest_of = staticmethod(tokens.digest)

    @classmethod
    def find_usable(cls, token: str) -> Invitation | None:
        if not token.startswith(cls.PREFIX):
            return None
        return (
            cls.objects.usable()
            .select_related("workspace", "created_by")
            .filter(digest=cls.digest_of(token))
            .first()
        )

    @property
    def status(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.used_at:
            return "used"
        return "expired" if self.expires_at <= timezone.now() else "open"


class Activity(models.Model):
    """One administrative change in a workspace (``workspaces.activity.record``): who did
    what to what, and when. Never a secret's value."""

    workspace = models.ForeignKey(Workspace, models.CASCADE, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: The actor's name when it was recorded: the log still reads after they are deleted.
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)
    target = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["workspace", "-at"])]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target}"
