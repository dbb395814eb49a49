"""The models part of the JSON API: model configs, the operator's credentials, your secrets.

``/api/models`` is CRUD on the caller's model configs (the offline simulator is listed first
and is always there); ``GET /api/credentials`` lists the keys the operator lends (never the key,
nor the variable holding it); ``/api/secrets`` stores, lists and deletes the caller's secrets,
which are write-only: no response ever carries a value. The rules live in
``teams/model_configs.py``, shared with the settings pages. Another user's object answers 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from runs.engine.models import catalogue

from .credentials import Refused, operator_credentials
from .model_configs import (
    ModelConfigIn,
    SecretIn,
    delete_model_config,
    delete_secret,
    save_model_config,
    store_secret,
)
from .models import ModelConfig, Secret
from .schemas import ErrorOut
from .services import SpecRejected
from .validation import error

router = Router(tags=["models"])
_MAX_ID = 2**63 - 1
_OFFLINE = {
    "id": None,
    "name": "offline",
    "provider": "offline",
    "model": "offline",
    "simulated": True,
}


class ModelOut(Schema):
    id: int | None = None
    name: str
    provider: str
    model: str
    simulated: bool
    base_url: str | None = None
    credential: str | None = None
    secret: str | None = None
    input_usd_per_mtok: float = 0.0
    output_usd_per_mtok: float = 0.0
    cached_input_usd_per_mtok: float | None = None
    price_source: str = "model"
    capabilities: dict[str, Any] | None = None
    needs_credential: bool = False


class CredentialOut(Schema):
    name: str
    provider: str
    base_url: str | None
    hosts: list[str]
    input_usd_per_mtok: float
    output_usd_per_mtok: float


class SecretOut(Schema):
    id: int
    name: str
    hosts: list[str]
    created_at: datetime
    updated_at: datetime


def refused(exc: Refused) -> SpecRejected:
    """A refusal as the API's located 422."""
    problem = error("invalid", f"{exc.field}: {exc.message}", path=exc.field)
    return SpecRejected([problem], f"{exc.message} Nothing was saved.")


@router.get("/models", response=list[ModelOut])
def list_models(request: HttpRequest) -> Any:
    """Models agents may use: the offline simulator first, then the caller's model configs."""
    configs = ModelConfig.objects.for_user(request.auth).select_related("secret")  # type: ignore[attr-defined]
    return [_OFFLINE] + [c.to_dict() for c in configs if c.name != "offline"]


@router.post("/models", response={201: ModelOut, 422: ErrorOut})
def create_model(request: HttpRequest, payload: ModelConfigIn) -> Any:
    """A model config. Its key is an operator ``credential`` (whose base URL and prices it
    takes) or one of your ``secret``s (sent only to the secret's hosts), or none."""
    return Status(201, _save(ModelConfig(owner=request.auth), payload, request.auth))


@router.get("/models/catalogue", response=dict[str, Any])
def model_catalogue(request: HttpRequest) -> Any:
    """The model catalogue: for the common models of each provider, USD per 1M input, output
    and cached tokens, the context window and capabilities (tools, structured output, vision),
    with the catalogue's source and date; and the presets of known servers."""
    return catalogue.catalogue().public()


@router.get("/models/{model_id}", response=ModelOut)
def read_model(request: HttpRequest, model_id: int) -> Any:
    return _get_model(request, model_id).to_dict()


@router.put("/models/{model_id}", response={200: ModelOut, 422: ErrorOut})
def update_model(request: HttpRequest, model_id: int, payload: ModelConfigIn) -> Any:
    return _save(_get_model(request, model_id), payload, request.auth)


@router.delete("/models/{model_id}", response={204: None})
def delete_model(request: HttpRequest, model_id: int) -> Any:
    delete_model_config(_get_model(request, model_id), request.auth)
    return Status(204, None)


@router.get("/credentials", response=list[CredentialOut])
def list_credentials(request: HttpRequest) -> Any:
    """The keys the operator lends: where each is sent and what it costs, never the key."""
    return [c.public_view() for _, c in sorted(operator_credentials().items())]


@router.get("/secrets", response=list[SecretOut], tags=["secrets"])
def list_secrets(request: HttpRequest) -> Any:
    """Your secrets: names and hosts. Values are never returned."""
    return [s.to_dict() for s in Secret.objects.for_user(request.auth)]  # type: ignore[attr-defined]


@router.post("/secrets", response={200: SecretOut, 201: SecretOut, 422: ErrorOut}, tags=["secrets"])
def create_secret(request: HttpRequest, payload: SecretIn) -> Any:
    """Stores a secret, encrypted, bound to ``hosts``; the same name again replaces its value
    and hosts (200). The value is never returned or shown again."""
    try:
        secret, created = store_secret(request.auth, payload)
    except Refused as exc:
        raise refused(exc) from None
    return Status(201 if created else 200, secret.to_dict())


@router.delete("/secrets/{secret_id}", response={204: None, 409: ErrorOut}, tags=["secrets"])
def remove_secret(request: HttpRequest, secret_id: int) -> Any:
    secret = None
    if 0 < secret_id <= _MAX_ID:
        secret = Secret.objects.for_user(request.auth).filter(pk=secret_id).first()  # type: ignore[attr-defined]
    if secret is None:
        raise HttpError(404, f"Secret {secret_id} was not found.")
    try:
        delete_secret(secret, request.auth)
    except ValueError as exc:
        raise HttpError(409, str(exc)) from None
    return Status(204, None)


def _get_model(request: HttpRequest, model_id: int) -> ModelConfig:
    config = None
    if 0 < model_id <= _MAX_ID:
        configs = ModelConfig.objects.for_user(request.auth).select_related("secret")  # type: ignore[attr-defined]
        config = configs.filter(pk=model_id).first()
    if config is None:
        raise HttpError(404, f"Model {model_id} was not found.")
    return config


def _save(config: ModelConfig, payload: ModelConfigIn, actor: Any) -> dict[str, Any]:
    try:
        return save_model_config(config, payload, actor).to_dict()
    except Refused as exc:
        raise refused(exc) from None
