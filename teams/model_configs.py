"""Saving model configs and secrets: the one place their rules live, for the API and the pages.

A model's key comes from an operator credential (whose base URL and prices it takes) or from a
secret of the owner's (sent only to the secret's hosts), or it has none; nothing a user sends
names an environment variable. A base URL a user chooses must not point into the private
network unless the operator allows it (the network guard checks again at connect time).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal

import httpx
from django.conf import settings
from django.db import IntegrityError, transaction
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from runs.engine.models import catalogue
from runs.engine.tools.http_tool import SECRET_NAME
from runs.engine.tools.netguard import BlockedAddress, NetworkPolicy, check_url
from workspaces.activity import record
from workspaces.models import Workspace

from .credentials import Refused, host_of, normal_hosts, operator_credentials
from .models import ModelConfig, Secret

#: The default endpoint of each native provider.
NATIVE = {name: catalogue.preset(name).base_url for name in ("anthropic", "gemini")}  # type: ignore[union-attr]
Price = Annotated[Decimal, Field(ge=0, le=1_000_000, max_digits=10, decimal_places=4)]
_NO_VARIABLES = (
    "Models never name environment variables: use a credential the operator defined "
    "(credential) or a secret you stored (secret)."
)


class ModelConfigIn(BaseModel):
    """A model config as the API and the settings page accept it."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What agents call it.")
    provider: Literal["openai", "anthropic", "gemini", "offline"] = "openai"
    preset: str | None = Field(
        None,
        max_length=50,
        description="A server's preset (GET /api/models/catalogue): its provider and base URL.",
    )
    model: str = Field(min_length=1, max_length=200, description="e.g. gpt-4o-mini")
    credential: str | None = Field(
        None, max_length=100, description="An operator credential's name (GET /api/credentials)."
    )
    secret: str | None = Field(None, max_length=100, description="The name of a secret of yours.")
    base_url: str | None = Field(
        None,
        max_length=200,
        pattern=r"^https?://",
        description="Needed with a secret; never with a credential that has its own.",
    )
    input_usd_per_mtok: Price | None = Field(None, description="Not with a credential.")
    output_usd_per_mtok: Price | None = Field(None, description="Not with a credential.")
    api_key_env: SkipJsonSchema[str | None] = None

    @field_validator("api_key_env")
    @classmethod
    def _no_variables(cls, value: str | None) -> None:
        if value is not None:
            raise ValueError(_NO_VARIABLES)
        return None

    @field_validator("name", "model", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _preset(self) -> ModelConfigIn:
        """A preset fills in the provider and, unless one is given, the base URL."""
        if self.preset is None:
            return self
        chosen = catalogue.preset(self.preset)
        if chosen is None:
            names = ", ".join(catalogue.preset_names())
            raise ValueError(f"There is no preset {self.preset!r}; choose one of {names}.")
        if "provider" in self.model_fields_set and self.provider != chosen.provider:
            raise ValueError(
                f"The preset {chosen.name} is for the {chosen.provider} provider, "
                f"not {self.provider}; leave the provider out."
            )
        self.provider = chosen.provider
        if self.base_url is None and not self.credential:
            if chosen.needs_filling:
                raise ValueError(
                    f"The preset {chosen.name} needs a base URL like {chosen.base_url}."
                )
            self.base_url = chosen.base_url
        return self

    @field_validator("credential", "secret", "base_url", mode="before")
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return (value.strip() or None) if isinstance(value, str) else value


class SecretIn(BaseModel):
    """A secret to store (or replace). The value is never returned."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=SECRET_NAME, description="How models and tools refer to it.")
    value: str = Field(min_length=1, max_length=10_000, description="Write-only.")
    hosts: list[str] = Field(
        min_length=1, max_length=20, description="Host names it may be sent to."
    )

    @field_validator("hosts")
    @classmethod
    def _host_names(cls, hosts: list[str]) -> list[str]:
        return normal_hosts(hosts)


def save_model_config(config: ModelConfig, data: ModelConfigIn, actor: Any = None) -> ModelConfig:
    """Makes ``config`` (new, or one of its workspace's) what ``data`` says and saves it, in
    the activity log as ``actor``'s change (its owner's by default); ``Refused`` with the
    field at fault when it may not be."""
    created = config.pk is None
    _check_name(config, data.name)
    config.name, config.provider, config.model = data.name, data.provider, data.model
    config.credential, config.secret, config.base_url = "", None, data.base_url or ""
    config.input_usd_per_mtok = data.input_usd_per_mtok or Decimal(0)
    config.output_usd_per_mtok = data.output_usd_per_mtok or Decimal(0)
    if data.provider == ModelConfig.Provider.OFFLINE:
        if data.credential or data.secret or data.base_url:
            raise Refused("provider", "The offline simulator takes no key and no base URL.")
    elif data.credential and data.secret:
        raise Refused("secret", "Use an operator credential or a secret of yours, not both.")
    elif data.credential:
        _use_credential(config, data)
    else:
        if not config.base_url and data.provider in NATIVE:
            # The native SDKs' own endpoint, named so a secret's hosts can be checked.
            config.base_url = NATIVE[data.provider]
        if data.secret:
            _use_secret(config, data.secret)
        _check_user_url(config.base_url)
    config.needs_credential = False
    try:
        with transaction.atomic():
            config.save()
    except IntegrityError:
        raise Refused("name", "This workspace already has a model with this name.") from None
    record(
        config.workspace,
        actor or config.owner,
        "model.created" if created else "model.changed",
        config.name,
        provider=config.provider,
        model=config.model,
        base_url=config.base_url,
        credential=config.credential or None,
        secret_name=config.secret.name if config.secret else None,
    )
    return config


def delete_model_config(config: ModelConfig, actor: Any) -> None:
    config.delete()
    record(config.workspace, actor, "model.deleted", config.name)


def _check_name(config: ModelConfig, name: str) -> None:
    if name == "offline":
        raise Refused("name", "'offline' is the built-in simulator; choose another name.")
    taken = ModelConfig.objects.filter(workspace=config.place(), name=name).exclude(pk=config.pk)
    if taken.exists():
        raise Refused("name", "This workspace already has a model with this name.")


def _use_credential(config: ModelConfig, data: ModelConfigIn) -> None:
    credentials = operator_credentials()
    credential = credentials.get(data.credential or "")
    if credential is None or credential.provider != data.provider:
        known = ", ".join(sorted(credentials)) or "none are defined"
        raise Refused("credential", f"There is no credential {data.credential!r} ({known}).")
    if data.input_usd_per_mtok is not None or data.output_usd_per_mtok is not None:
        field = (
            "input_usd_per_mtok" if data.input_usd_per_mtok is not None else "output_usd_per_mtok"
        )
        raise Refused(
            field, f"Prices come from the operator's credential {credential.name}; leave them out."
        )
    if credential.base_url:
        if data.base_url and data.base_url.rstrip("/") != credential.base_url.rstrip("/"):
            raise Refused(
                "base_url",
                f"The credential {credential.name} is only sent to {credential.base_url}; "
                "leave the base URL empty.",
            )
        config.base_url = ""
    elif host_of(config.base_url) not in credential.allowed_hosts():
        hosts = ", ".join(sorted(credential.allowed_hosts()))
        raise Refused(
            "base_url",
            f"The credential {credential.name} may only be sent to {hosts}: give a base URL "
            "on one of them.",
        )
    config.credential = credential.name


def _use_secret(config: ModelConfig, name: str) -> None:
    secret = Secret.objects.filter(workspace=config.place(), name=name).first()
    if secret is None:
        raise Refused("secret", f"You have no secret named {name}; add it first.")
    if not secret.allows(config.base_url):
        raise Refused(
            "base_url",
            f"The secret {name} may only be sent to {', '.join(secret.hosts)}: give a base "
            "URL on one of them, or add its host to the secret.",
        )
    config.secret = secret


def _check_user_url(url: str) -> None:
    """An early, clear refusal of a private address; the guard checks again at connect time."""
    if not url:
        return
    policy = NetworkPolicy.allowing(settings.TOOLS_ALLOWED_PRIVATE_NETWORKS)
    try:
        check_url(url, policy)
    except BlockedAddress as exc:
        raise Refused("base_url", str(exc)) from None
    except httpx.InvalidURL as exc:
        raise Refused("base_url", f"This is not a URL a model can be reached at: {exc}.") from None
    except (httpx.HTTPError, ValueError):
        pass  # a name that does not resolve yet: the guard decides when it is used


def store_secret(owner: Any, data: SecretIn, workspace: Workspace) -> tuple[Secret, bool]:
    """Stores a new secret in ``workspace``, or replaces the value and hosts of the one with
    that name there; returns it and whether it is new. ``Refused`` if a model using it would
    lose its host."""
    secret = Secret.objects.filter(workspace=workspace, name=data.name).first()
    created = secret is None
    if secret is None:
        secret = Secret(owner=owner, workspace=workspace, name=data.name)
    secret.hosts = data.hosts
    for config in secret.model_configs.all() if not created else ():
        if not secret.allows(config.base_url):
            raise Refused(
                "hosts",
                f"Your model {config.name} sends this secret to {host_of(config.base_url)}; "
                "keep that host, or change the model first.",
            )
    secret.set_value(data.value)
    try:
        with transaction.atomic():
            secret.save()
    except IntegrityError:
        raise Refused("name", "You already have a secret with this name.") from None
    action = "secret.created" if created else "secret.replaced"
    record(workspace, owner, action, secret.name, hosts=secret.hosts)  # never the value
    return secret, created


def delete_secret(secret: Secret, actor: Any = None) -> None:
    """``ValueError`` while a model uses it (tools that do fail with a clear reason)."""
    users = ", ".join(secret.model_configs.values_list("name", flat=True))
    if users:
        raise ValueError(f"The models {users} use this secret; change or remove them first.")
    secret.delete()
    record(secret.workspace, actor or secret.owner, "secret.deleted", secret.name)


class ConnectIn(BaseModel):
    """ "Connect a model" on the start page: a preset, a model name and a key, in one step."""

    model_config = ConfigDict(extra="forbid")

    preset: str = Field(max_length=50)
    model: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    key: str = Field("", max_length=10_000)
    base_url: str | None = Field(None, max_length=200, pattern=r"^https?://")

    @field_validator("name", "model", "key", mode="before")
    @classmethod
    def _stripped(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value


def connect_model(owner: Any, workspace: Workspace, data: ConnectIn) -> ModelConfig:
    """A model config from a preset; a key given is stored as a new secret named after the
    model and bound to the one host the model is called at. All or nothing: ``Refused`` (or
    pydantic's ``ValidationError``) leaves no secret behind."""
    chosen = catalogue.preset(data.preset)
    if chosen is None:
        raise Refused("preset", f"Choose one of {', '.join(catalogue.preset_names())}.")
    if chosen.key == "required" and not data.key:
        raise Refused("key", f"{chosen.label} needs a key: paste the one it gave you.")
    if chosen.key == "none" and data.key:
        raise Refused("key", f"{chosen.label} takes no key: leave the field empty.")
    base_url = data.base_url or (None if chosen.needs_filling else chosen.base_url)
    if base_url is None:
        raise Refused("base_url", f"{chosen.label} needs a base URL like {chosen.base_url}.")
    config_in = ModelConfigIn(
        name=data.name, preset=chosen.name, model=data.model, base_url=base_url
    )
    with transaction.atomic():
        if data.key:
            secret_name = f"{data.name}-key" if _is_secret_name(f"{data.name}-key") else None
            if (
                secret_name is None
                or Secret.objects.filter(workspace=workspace, name=secret_name).exists()
            ):
                raise Refused(
                    "name", "Choose another model name: its key's secret name is taken or invalid."
                )
            secret_in = SecretIn(name=secret_name, value=data.key, hosts=[host_of(base_url)])
            store_secret(owner, secret_in, workspace)
            config_in.secret = secret_name
        return save_model_config(ModelConfig(owner=owner, workspace=workspace), config_in, owner)


def _is_secret_name(name: str) -> bool:
    return re.match(SECRET_NAME, name) is not None
