"""Single sign-on's pages: "Sign in with ..." sends the person to the provider, the callback
brings them back logged in (or to the log-in page with the reason), and log-out ends the
provider's session too. All of it 404s while single sign-on is off."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from . import oidc

logger = logging.getLogger(__name__)

UNREACHABLE = (
    "Single sign-on is not working right now: this server could not reach the sign-in "
    "provider. Try again in a minute, or log in with a password."
)
FAILED = "Single sign-on did not complete. Try again."
PROVIDER_SAID = "The sign-in provider did not let you in ({error})."


class SSOStart(OIDCAuthenticationRequestView):
    """Redirects to the provider's authorization endpoint with state, nonce and PKCE."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The parent reads the endpoint here, before a view can answer for a failure.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:  # the library's name
        return oidc.endpoint("OIDC_OP_AUTHORIZATION_ENDPOINT")

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404
        try:
            return super().get(request)
        except oidc.ProviderUnavailable as exc:
            logger.warning("single sign-on: %s", exc)
            messages.error(request, UNREACHABLE)
            return redirect("login")


class SSOCallback(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back with a code; a failure of any kind lands on
    the log-in page with a sentence, never on an error page."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not settings.OIDC_ENABLED:
            raise Http404
        if error := request.GET.get("error"):
            messages.error(request, PROVIDER_SAID.format(error=error[:100]))
        try:
            return super().get(request)
        except (oidc.ProviderUnavailable, requests.RequestException) as exc:
            logger.warning("single sign-on: %s", exc)
            messages.error(request, UNREACHABLE)
        except SuspiciousOperation as exc:
            logger.warning("single sign-on refused a callback: %s", exc)
            messages.error(request, FAILED)
        return redirect("login")

    def login_failure(self) -> HttpResponse:
        if not messages.get_messages(self.request):
            messages.error(self.request, FAILED)
        return HttpResponseRedirect(reverse("login"))


def provider_logout_url(request: HttpRequest, id_token: str | None) -> str | None:
    """Where to send someone who logged in through the provider and now logs out, so that
    the provider's session ends too (RP-initiated logout); None to stay here."""
    if not (settings.OIDC_ENABLED and settings.OIDC_LOGOUT_AT_PROVIDER and id_token):
        return None
    try:
        end_session = oidc.endpoint("OIDC_OP_LOGOUT_ENDPOINT")
    except oidc.ProviderUnavailable as exc:
        logger.warning("single sign-on: logged out here only: %s", exc)
        return None
    if not end_session:
        return None
    query = {
        "id_token_hint": id_token,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
    }
    return f"{end_session}?{urlencode(query)}"
