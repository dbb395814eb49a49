"""The OpenID Connect provider's endpoints: from the operator's settings where given, else from
the issuer's discovery document (``/.well-known/openid-configuration``), fetched when first
needed and kept for an hour. Nothing is fetched at start-up, so the site starts while the
provider is down, and only signing in with it fails, with a sentence saying so."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests
from django.conf import settings

DISCOVERY_TTL_S = 3600.0

# mozilla-django-oidc's setting name -> (our explicit setting, the discovery document's key)
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": ("OIDC_AUTHORIZATION_ENDPOINT", "authorization_endpoint"),
    "OIDC_OP_TOKEN_ENDPOINT": ("OIDC_TOKEN_ENDPOINT", "token_endpoint"),
    "OIDC_OP_USER_ENDPOINT": ("OIDC_USERINFO_ENDPOINT", "userinfo_endpoint"),
    "OIDC_OP_JWKS_ENDPOINT": ("OIDC_JWKS_ENDPOINT", "jwks_uri"),
    "OIDC_OP_LOGOUT_ENDPOINT": ("OIDC_END_SESSION_ENDPOINT", "end_session_endpoint"),
}

_lock = threading.Lock()
_documents: dict[str, tuple[float, dict[str, Any]]] = {}


class ProviderUnavailable(Exception):
    """The provider's discovery document could not be had, or does not describe it."""


def endpoint(name: str) -> str:
    """The URL of one endpoint, by mozilla-django-oidc's setting name; empty for an optional
    one (the logout endpoint) the provider does not have. Raises ProviderUnavailable."""
    explicit, key = ENDPOINTS[name]
    if value := getattr(settings, explicit, ""):
        return str(value)
    found = discovery().get(key) or ""
    if not found and name != "OIDC_OP_LOGOUT_ENDPOINT":
        raise ProviderUnavailable(f"The provider's discovery document names no {key}.")
    return str(found)


def discovery() -> dict[str, Any]:
    issuer = settings.OIDC_ISSUER
    with _lock:
        cached = _documents.get(issuer)
        if cached and time.monotonic() - cached[0] < DISCOVERY_TTL_S:
            return cached[1]
    document = _fetch(issuer)
    with _lock:
        _documents[issuer] = (time.monotonic(), document)
    return document


def _fetch(issuer: str) -> dict[str, Any]:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT_S)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"{url} did not answer with a discovery document: {exc}") from exc
    # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was
    # fetched for, or its endpoints (and keys) are someone else's.
    if not isinstance(document, dict) or str(document.get("issuer", "")).rstrip(
        "/"
    ) != issuer.rstrip("/"):
        raise ProviderUnavailable(f"{url} describes another issuer, not {issuer}.")
    return document


def forget() -> None:
    """Drop the cached documents (tests, and a provider whose endpoints moved)."""
    with _lock:
        _documents.clear()
