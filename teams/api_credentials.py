"""The models part of the JSON API: model configs, the operator's credentials, your secrets.

``/api/models`` is CRUD on the caller's model configs (the offline simulator is listed first
and is always there); ``GET /api/credentials`` lists the keys the operator lends (never the key,
nor the variable holding it); ``/api/secrets`` stores, lists and deletes the caller's secrets,
which are write-only: no response ever carries a value. The rules live in
``teams/model_configs.py``, shared with the settings pages. All of them belong to a workspace
(``?workspace=`` to list, ``"workspace"`` in a body to create); an object of a workspace the
caller is not in answers 404, a role without the permission 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from runs.engine.models import catalogue
from workspaces import operations
from workspaces.operations import WORKSPACE_QUERY, InWorkspaceBody, requires

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


class ModelConfigCreate(ModelConfigIn, InWorkspaceBody):
    pass


class SecretCreate(SecretIn, InWorkspaceBody):
    pass


def refused(exc: Refused) -> SpecRejected:
    """A refusal as the API's located 422."""
    problem = error("invalid", f"{exc.field}: {exc.message}", path=exc.field)
    return SpecRejected([problem], f"{exc.message} Nothing was saved.")


@router.get("/models", response=list[ModelOut])
@requires("model.view")
def list_models(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    """Models agents may use: the offline simulator first, then the workspace's model
    configs."""
    place = operations.workspace(request, workspace)
    configs = ModelConfig.objects.in_workspace(place).select_related("secret")
    return [_OFFLINE] + [c.to_dict() for c in configs if c.name != "offline"]


@router.post("/models", response={201: ModelOut, 422: ErrorOut})
@requires("model.edit")
def create_model(request: HttpRequest, payload: ModelConfigCreate) -> Any:
    """A model config. Its key is an operator ``credential`` (whose base URL and prices it
    takes) or one of the workspace's ``secret``s (sent only to the secret's hosts), or none."""
    place = operations.workspace(request, payload.workspace)
    return Status(
        201, _save(ModelConfig(owner=request.auth, workspace=place), payload, request.auth)
    )


@router.get("/models/catalogue", response=dict[str, Any])
@requires(None)
def model_catalogue(request: HttpRequest) -> Any:
    """The model catalogue: for the common models of each provider, USD per 1M input, output
    and cached tokens, the context window and capabilities (tools, structured output, vision),
    with the catalogue's source and date; and the presets of known servers."""
    return catalogue.catalogue().public()


@router.get("/models/{model_id}", response=ModelOut)
@requires("model.view")
def read_model(request: HttpRequest, model_id: int) -> Any:
    return _get_model(request, model_id).to_dict()


@router.put("/models/{model_id}", response={200: ModelOut, 422: ErrorOut})
@requires("model.edit")
def update_model(request: HttpRequest, model_id: int, payload: ModelConfigIn) -> Any:
    return _save(_get_model(request, model_id), payload, request.auth)


@router.delete("/models/{model_id}", response={204: None})
@requires("model.edit")
def delete_model(request: HttpRequest, model_id: int) -> Any:
    delete_model_config(_get_model(request, model_id), request.auth)
    return Status(204, None)


@router.get("/credentials", response=list[CredentialOut])
@requires(None)
def list_credentials(request: HttpRequest) -> Any:
    """The keys the operator lends: where each is sent and what it costs, never the key."""
    return [c.public_view() for _, c in sorted(operator_credentials().items())]


@router.get("/secrets", response=list[SecretOut], tags=["secrets"])
@requires("secret.view")
def list_secrets(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    """The workspace's secrets: names and hosts. Values are never returned."""
    place = operations.workspace(request, workspace)
    return [s.to_dict() for s in Secret.objects.in_workspace(place)]


@router.post("/secrets", response={200: SecretOut, 201: SecretOut, 422: ErrorOut}, tags=["secrets"])
@requires("secret.edit")
def create_secret(request: HttpRequest, payload: SecretCreate) -> Any:
    """Stores a secret, encrypted, bound to ``hosts``; the same name again replaces its value
    and hosts (200). The value is never returned or shown again."""
    place = operations.workspace(request, payload.workspace)
    data = SecretIn.model_validate(payload.model_dump(exclude={"workspace"}))
    try:
        secret, created = store_secret(request.auth, data, place)
    except Refused as exc:
        raise refused(exc) from None
    return Status(201 if created else 200, secret.to_dict())


@router.delete("/secrets/{secret_id}", response={204: None, 409: ErrorOut}, tags=["secrets"])
@requires("secret.edit")
def remove_secret(request: HttpRequest, secret_id: int) -> Any:
    secret = operations.get(
        Secret.objects.all(), request, pk=secret_id, not_found=f"Secret {secret_id} was not found."
    )
    try:
        delete_secret(secret, request.auth)
    except ValueError as exc:
        raise HttpError(409, str(exc)) from None
    return Status(204, None)


def _get_model(request: HttpRequest, model_id: int) -> ModelConfig:
    return operations.get(
        ModelConfig.objects.select_related("secret"),
        request,
        pk=model_id,
        not_found=f"Model {model_id} was not found.",
    )


def _save(config: ModelConfig, payload: ModelConfigIn, actor: Any) -> dict[str, Any]:
    try:
        return save_model_config(config, payload, actor).to_dict()
    except Refused as exc:
        raise refused(exc) from None
