"""How API callers prove who they are: the browser's session (with CSRF) or a bearer token.

Either way ``request.auth`` (and ``request.user``) is the authenticated user, so endpoints
never care which one was used. A bearer token is tried first: a script that sends one is not
asked for a CSRF token even if it also carries a stale session cookie.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from orchestration_site import quotas

from .models import ApiToken


def admitted(user: Any | None) -> Any | None:
    """The authenticated user, counted against the API request rate (``QuotaExceeded``, a
    429, once it is used up)."""
    if user is not None:
        quotas.hit(quotas.API_REQUESTS, user.pk)
    return user


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from ``ApiToken.issue``; the user it
    authenticates carries the token's ``TokenScope`` (one workspace, at most its role), which
    every check of ``workspaces.access`` applies. A revoked or expired token gets 401."""

    def authenticate(self, request: HttpRequest, token: str) -> Any | None:
        user = ApiToken.user_for(token)
        if user is not None:
            request.user = user
        return admitted(user)


class SessionAuth(APIKeyCookie):
    """The browser's Django session; unsafe methods need the ``X-CSRFToken`` header.

    Unlike ninja's ``django_auth`` the CSRF check only runs for a logged-in session, so an
    anonymous caller gets 401 (who are you?) rather than 403 (missing CSRF token).
    """

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any | None:
        return admitted(request.user if request.user.is_authenticated else None)


bearer_auth = BearerTokenAuth()
session_auth = SessionAuth()

#: What every API endpoint accepts; ninja answers 401 when none of them authenticates.
#: A logged-in session without the CSRF token on an unsafe method gets 403.
api_auth = [bearer_auth, session_auth]
