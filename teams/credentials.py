"""Where model and tool keys come from: the operator's credentials and the secrets users store.

Users never name environment variables. There are two sources of keys:

- **Operator credentials**, defined in the ``MODEL_CREDENTIALS`` setting (JSON: name ->
  provider, the environment variable holding the key, the one base URL or the hosts it may be
  sent to, and the prices). Parsed once at start-up by ``parse_operator_credentials``, which
  refuses nonsense with the credential and field at fault. Users may use one in a ModelConfig,
  but never re-point it (the base URL comes from the credential) nor price it.
- **Secrets** a user stores (``teams.models.Secret``): encrypted at rest with a MultiFernet
  built from ``SECRETS_ENCRYPTION_KEYS`` (the first key encrypts, every key decrypts, so keys
  rotate), write-only, each bound to the hosts it may be sent to.

This module imports no Django model: settings.py parses its values with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from runs.engine.models import catalogue

ENV_VAR_NAME = r"^[A-Z_][A-Z0-9_]{0,99}$"
HOST_NAME = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$|^\[?[0-9A-Fa-f:.]+\]?$"
Host = Annotated[str, Field(pattern=HOST_NAME, max_length=255)]
Price = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=4)]


class CredentialsMisconfigured(ValueError):
    """A setting about credentials or secrets makes no sense; the message says which and why."""


class Refused(ValueError):
    """Input that would misuse a key, located at the ``field`` at fault (a 422 in the API, a
    field error in a form)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class OperatorCredential(BaseModel):
    """One key the operator lends to users' models. Never shown to users beyond its name,
    provider, where it goes and what it costs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    provider: Literal["openai", "anthropic", "gemini"] = "openai"
    key_env: str | None = Field(
        None, pattern=ENV_VAR_NAME, description="The environment variable holding the key."
    )
    base_url: str | None = Field(None, pattern=r"^https?://", max_length=2000)
    hosts: tuple[Host, ...] = Field(
        (), description="Instead of one base URL: the hosts a model's base URL may name."
    )
    input_usd_per_mtok: Price = Decimal(0)
    output_usd_per_mtok: Price = Decimal(0)

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        """``"preset": "openrouter"`` stands for that server's provider and base URL."""
        if not isinstance(data, dict) or "preset" not in data:
            return data
        data = dict(data)
        name = data.pop("preset")
        chosen = catalogue.preset(name) if isinstance(name, str) else None
        if chosen is None:
            raise ValueError(f"preset: {name!r} is none of {', '.join(catalogue.preset_names())}")
        if chosen.needs_filling and not data.get("base_url"):
            raise ValueError(f"preset {name!r}: give base_url, e.g. {chosen.base_url}")
        data.setdefault("provider", chosen.provider)
        if not data.get("hosts"):
            data.setdefault("base_url", chosen.base_url)
        return data

    @model_validator(mode="after")
    def _one_destination(self) -> OperatorCredential:
        if bool(self.base_url) == bool(self.hosts):
            raise ValueError("give either base_url (one URL) or hosts (a list), not both or none")
        if self.base_url and not host_of(self.base_url):
            raise ValueError(f"base_url {self.base_url!r} has no host")
        return self

    def allowed_hosts(self) -> frozenset[str]:
        """The hosts this credential's key may be sent to."""
        if self.base_url:
            return frozenset({host_of(self.base_url)})
        return frozenset(normal_host(h) for h in self.hosts)

    def public_view(self) -> dict[str, Any]:
        """What a user may know about it: not the variable, never the key."""
        return {
            "name": self.name,
            "provider": self.provider,
            "base_url": self.base_url,
            "hosts": sorted(self.allowed_hosts()) if not self.base_url else [],
            "input_usd_per_mtok": float(self.input_usd_per_mtok),
            "output_usd_per_mtok": float(self.output_usd_per_mtok),
        }


def parse_operator_credentials(raw: str) -> dict[str, OperatorCredential]:
    """``MODEL_CREDENTIALS`` as credentials by name; ``CredentialsMisconfigured`` on nonsense."""
    if not raw.strip():
        return {}
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise CredentialsMisconfigured(f"MODEL_CREDENTIALS is not valid JSON: {exc}.") from None
    if not isinstance(document, dict):
        raise CredentialsMisconfigured(
            'MODEL_CREDENTIALS must be a JSON object: {"name": {"key_env": ..., "base_url": ...}}.'
        )
    credentials: dict[str, OperatorCredential] = {}
    for name, fields in document.items():
        if not isinstance(fields, dict):
            raise CredentialsMisconfigured(f"MODEL_CREDENTIALS[{name!r}] must be a JSON object.")
        try:
            credentials[name] = OperatorCredential.model_validate({**fields, "name": name})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "it"
            raise CredentialsMisconfigured(
                f"MODEL_CREDENTIALS[{name!r}]: {where}: {first['msg']}."
            ) from None
    return credentials


def operator_credentials() -> dict[str, OperatorCredential]:
    """The credentials the deployment was started with (settings parse them once)."""
    from django.conf import settings

    return dict(getattr(settings, "MODEL_CREDENTIALS", {}))


# Secrets at rest ------------------------------------------------------------------------------


def parse_encryption_keys(raw: str, *, debug: bool, secret_key: str) -> tuple[str, ...]:
    """``SECRETS_ENCRYPTION_KEYS`` (comma-separated Fernet keys, the first encrypts). Unset, a
    development key is derived from ``secret_key`` under DEBUG; otherwise it is an error."""
    keys = tuple(k.strip() for k in raw.split(",") if k.strip())
    if not keys:
        if not debug:
            raise CredentialsMisconfigured(
                "SECRETS_ENCRYPTION_KEYS is not set: the secrets users store are encrypted with "
                "it. Make one with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`, or set DEBUG=1 for local use."
            )
        digest = hashlib.sha256(b"secrets-encryption:" + secret_key.encode()).digest()
        return (base64.urlsafe_b64encode(digest).decode(),)
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise CredentialsMisconfigured(
                f"SECRETS_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes, as Fernet.generate_key() makes)."
            ) from None
    return keys


def _box() -> MultiFernet:
    from django.conf import settings

    return _box_for(tuple(settings.SECRETS_ENCRYPTION_KEYS))


_boxes: dict[tuple[str, ...], MultiFernet] = {}


def _box_for(keys: tuple[str, ...]) -> MultiFernet:
    box = _boxes.get(keys)
    if box is None:
        box = _boxes[keys] = MultiFernet([Fernet(k) for k in keys])
    return box


def encrypt(value: str) -> str:
    return _box().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    """The stored value; ``CredentialsMisconfigured`` when no configured key opens it."""
    try:
        return _box().decrypt(token.encode()).decode()
    except InvalidToken:
        raise CredentialsMisconfigured(
            "A stored secret cannot be decrypted with SECRETS_ENCRYPTION_KEYS: the key it was "
            "encrypted with was removed. Put that key back (after the new first one)."
        ) from None


def rotate(token: str) -> str:
    """The same secret encrypted with the current first key (after a rotation)."""
    return _box().rotate(token.encode()).decode()


# Hosts ----------------------------------------------------------------------------------------


def normal_host(host: str) -> str:
    return host.strip().strip("[]").lower().rstrip(".")


def host_of(url: str) -> str:
    """The URL's host name, lower case, without brackets or a trailing dot ("" if none)."""
    try:
        return normal_host(urlsplit(url).hostname or "")
    except ValueError:
        return ""


def normal_hosts(hosts: list[str] | tuple[str, ...]) -> list[str]:
    """Host names as a secret stores them; ``ValueError`` for one that is not a host name."""
    cleaned: list[str] = []
    for host in hosts:
        if "://" in host or "/" in host:
            raise ValueError(f"{host!r} is a URL; give its host name only, e.g. api.example.com.")
        if not re.fullmatch(HOST_NAME, host.strip()):
            raise ValueError(f"{host!r} is not a host name, e.g. api.example.com.")
        if normal_host(host) not in cleaned:
            cleaned.append(normal_host(host))
    return cleaned
