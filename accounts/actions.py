"""Every change the accounts app makes to who may log in: single sign-on's new accounts and
their identities (accounts/sso.py decides; these do)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from workspaces.models import Membership, Workspace

from .models import OIDCIdentity

USERNAME_MAX = 150


def create_sso_user(issuer: str, subject: str, email: str, wanted: str) -> User:
    """A new account for someone the provider vouches for, with no password (they log in
    through the provider only), linked to their ``sub``, and a member of the configured
    workspace. ``wanted`` is the username they would like; they get it or the first free
    ``wanted-2``, ``wanted-3``... so no existing account is ever reused."""
    validate_email(email)
    with transaction.atomic():
        user = _new_user(wanted, email)
        OIDCIdentity.objects.create(
            user=user, issuer=issuer, subject=subject, email=email, last_login_at=timezone.now()
        )
        join_configured_workspace(user)
    return user


def record_sso_login(identity: OIDCIdentity, email: str) -> None:
    """Notes the log-in, and takes the provider's new address when no other account has it
    (an address is contact detail, never what the account is found by)."""
    identity.email = email
    identity.last_login_at = timezone.now()
    identity.save(update_fields=["email", "last_login_at"])
    user = identity.user
    taken = User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists()
    if user.email != email and not taken:
        user.email = email
        user.save(update_fields=["email"])


class NoSuchWorkspace(Exception):
    """``OIDC_JOIN_WORKSPACE`` names no workspace."""


def join_configured_workspace(user: User) -> None:
    """Makes ``user`` a member of ``OIDC_JOIN_WORKSPACE`` with ``OIDC_JOIN_ROLE``, if set
    (besides the personal workspace every account gets)."""
    slug = settings.OIDC_JOIN_WORKSPACE
    if not slug:
        return
    workspace = Workspace.objects.filter(slug=slug).first()
    if workspace is None:
        raise NoSuchWorkspace(slug)
    # When workspaces has its member-adding action (activity log), this becomes a call to it.
    Membership.objects.get_or_create(
        workspace=workspace, user=user, defaults={"role": settings.OIDC_JOIN_ROLE}
    )


def _new_user(wanted: str, email: str) -> Any:
    base = wanted[: USERNAME_MAX - 8] or "user"
    candidates = [base] + [f"{base}-{n}" for n in range(2, 10)]
    candidates.append(f"{base}-{secrets.token_hex(3)}")
    for username in candidates:
        if User.objects.filter(username__iexact=username).exists():
            continue
        try:
            with transaction.atomic():
                return User.objects.create_user(username, email=email, password=None)
        except IntegrityError:  # taken meanwhile by a concurrent log-in
            continue
    raise IntegrityError(f"No free username near {wanted!r}.")
