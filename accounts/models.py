"""Invitations: how a person gets an account when ``SIGNUP=invite``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from orchestration_site import tokens


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def usable(self) -> InvitationQuerySet:
        return self.filter(used_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """A one-time sign-up link made by the operator or staff. Only the token's digest is
    kept, as for API tokens: a database reader cannot sign up with it."""

    PREFIX = "inv_"

    digest = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=200, blank=True, help_text="Who it is for.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    def __str__(self) -> str:
        return self.note or f"Invitation {self.pk}"

    digest_of = staticmethod(tokens.digest)

    @classmethod
    def issue(cls, by: Any | None, note: str = "") -> tuple[Invitation, str]:
        token = tokens.new_token(cls.PREFIX)
        expires = timezone.now() + timedelta(days=settings.INVITE_VALID_DAYS)
        row = cls.objects.create(
            digest=cls.digest_of(token), note=note, created_by=by, expires_at=expires
        )
        return row, token

    @classmethod
    def find_usable(cls, token: str) -> Invitation | None:
        return cls.objects.usable().filter(digest=cls.digest_of(token)).first() if token else None

    def redeem(self, user: Any) -> bool:
        """Marks the invitation used by ``user``; False if someone used it first."""
        taken = Invitation.objects.usable().filter(pk=self.pk)
        return bool(taken.update(used_at=timezone.now(), used_by=user))


class OIDCIdentity(models.Model):
    """Who a person is at the single sign-on provider: the issuer and its ``sub``, which the
    provider never reassigns. Log-in finds the account by this pair and never by e-mail, so a
    provider account that takes on someone else's address does not take over their account."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="oidc_identities"
    )
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255, help_text="The provider's `sub` claim.")
    email = models.EmailField(blank=True, help_text="The address it had at its last log-in.")
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "OIDC identity"
        verbose_name_plural = "OIDC identities"
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
