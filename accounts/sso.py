"""Single sign-on: who a person coming back from the OpenID Connect provider is.

mozilla-django-oidc runs the protocol (state, nonce and PKCE in the session, the code exchange,
the ID token's signature against the provider's JWKS, the userinfo call); this backend adds
what it leaves to its users: the ID token's issuer and audience, a verified address in an
allowed domain, and the account found by the provider's ``sub`` rather than by e-mail. A
refusal is told to the person as a message on the log-in page.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import IntegrityError
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import actions, oidc
from .models import OIDCIdentity

logger = logging.getLogger(__name__)

USERNAME_CHARS = re.compile(r"[^\w.@+-]")

UNVERIFIED = (
    "Your provider has not verified the e-mail address {email}. Verify it there, then sign in "
    "again."
)
NO_EMAIL = "Your provider did not tell us your e-mail address, which this server needs."
DOMAIN = "Accounts of {domain} cannot sign in here. Ask the person who runs this server."
NO_NEW_ACCOUNTS = (
    "There is no account here for your sign-in yet, and this server makes none from single "
    "sign-on. Ask the person who runs it to link one."
)
EMAIL_TAKEN = (
    "An account here already has the address {email}, and single sign-on never takes over an "
    "existing account. Log in with its password, or ask the person who runs this server to "
    "link it to your sign-in."
)
INACTIVE = "This account is switched off. Ask the person who runs this server."
NO_WORKSPACE = (
    'This server\'s single sign-on is set to add new people to the workspace "{slug}", '
    "which does not exist. Tell the person who runs it."
)


class Refused(Exception):
    """The provider vouched for someone this server will not let in; says why."""


class OIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the endpoints looked up when used (so loading the
    backend for every request's session costs no discovery), and our rules for who gets in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent's __init__ reads every endpoint eagerly; these attributes are what its
        # other methods use (tests/accounts/test_sso_library.py fails if that changes).
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = User

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # the library's name
        return oidc.endpoint("OIDC_OP_TOKEN_ENDPOINT")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:
        return oidc.endpoint("OIDC_OP_USER_ENDPOINT")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:
        return oidc.endpoint("OIDC_OP_JWKS_ENDPOINT")

    def authenticate(self, request: Any, **kwargs: Any) -> User | None:
        # Only the callback view passes the nonce and PKCE verifier from the session: a
        # password log-in that carries ?code=&state= in its URL is not an OIDC log-in.
        if not settings.OIDC_ENABLED or request is None or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: Any) -> User | None:
        # The library's returns switched-off accounts too, which would keep their sessions
        # alive; Django's own backend does not.
        return ModelBackend.get_user(self, user_id)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        # The library checks the signature, expiry and nonce, not who issued the token for
        # whom (OpenID Connect Core 1.0, 3.1.3.7, steps 2 to 4).
        if str(payload.get("iss", "")).rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
            raise SuspiciousOperation("The ID token was issued by another issuer.")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token is not meant for this client.")
        if len(audiences) > 1 and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("The ID token was given to another client.")
        return payload

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 1.0, 5.3.2: userinfo's sub must be the ID token's, or the
        # claims may belong to someone else.
        if not payload.get("sub") or str(claims.get("sub")) != str(payload["sub"]):
            raise SuspiciousOperation("The userinfo answer is about someone else.")
        try:
            user = self.person(str(payload["sub"]), claims)
        except Refused as refusal:
            logger.info("single sign-on refused for sub %s: %s", payload["sub"], refusal)
            messages.error(self.request, str(refusal))
            return None
        return user

    def person(self, subject: str, claims: dict[str, Any]) -> User:
        """The account of the provider's ``subject``: found by it, or made for it."""
        email = checked_email(claims)
        identity = identity_of(subject)
        if identity is not None:
            if not identity.user.is_active:
                raise Refused(INACTIVE)
            actions.record_sso_login(identity, email)
            return identity.user
        if not settings.OIDC_CREATE_USERS:
            raise Refused(NO_NEW_ACCOUNTS)
        if User.objects.filter(email__iexact=email).exists():
            raise Refused(EMAIL_TAKEN.format(email=email))
        try:
            return actions.create_sso_user(
                settings.OIDC_ISSUER, subject, email, wanted_username(claims, email)
            )
        except ValidationError:
            raise Refused(NO_EMAIL) from None
        except actions.NoSuchWorkspace as missing:
            logger.error("single sign-on: OIDC_JOIN_WORKSPACE %r does not exist", str(missing))
            raise Refused(NO_WORKSPACE.format(slug=missing)) from None
        except IntegrityError:
            # the same person's log-in in another tab made the account a moment ago
            if (identity := identity_of(subject)) is None:
                raise
            return identity.user


def identity_of(subject: str) -> OIDCIdentity | None:
    return (
        OIDCIdentity.objects.select_related("user")
        .filter(issuer=settings.OIDC_ISSUER, subject=subject)
        .first()
    )


def checked_email(claims: dict[str, Any]) -> str:
    """The person's address, if the provider verified it and its domain may sign in."""
    email = str(claims.get("email") or "").strip()
    if "@" not in email:
        raise Refused(NO_EMAIL)
    # Some providers send the boolean as a string.
    verified = claims.get("email_verified") in (True, "true")
    if settings.OIDC_REQUIRE_VERIFIED_EMAIL and not verified:
        raise Refused(UNVERIFIED.format(email=email))
    domain = email.rsplit("@", 1)[1].lower()
    if settings.OIDC_ALLOWED_DOMAINS and domain not in settings.OIDC_ALLOWED_DOMAINS:
        raise Refused(DOMAIN.format(domain=domain))
    return email


def wanted_username(claims: dict[str, Any], email: str) -> str:
    """The provider's preferred username, else the address's local part, in the characters
    Django's usernames allow."""
    name = str(claims.get("preferred_username") or "") or email.split("@", 1)[0]
    return USERNAME_CHARS.sub("", name)[: actions.USERNAME_MAX - 8].lower()
