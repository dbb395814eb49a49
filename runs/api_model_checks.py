"""``POST /api/models/{id}/test``: "test connection", one tiny call to a saved model with its
key (``runs.model_checks``). Only those who may change models may spend a call on one, a few
times a minute (``QUOTA_MODEL_TESTS``); the answer never carries the key."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from orchestration_site import quotas
from teams.models import ModelConfig
from workspaces import operations
from workspaces.operations import requires

from .model_checks import check_connection

router = Router(tags=["models"])


class ConnectionOut(Schema):
    ok: bool
    latency_ms: int | None
    message: str


@router.post(
    "/models/{model_id}/test",
    response=ConnectionOut,
    url_name="model-test",
    summary="Test a model's connection with one tiny call",
)
@requires("model.edit")
def test_model(request: HttpRequest, model_id: int) -> Any:
    """200 whatever the model answered: ``ok`` and ``latency_ms``, or ``ok: false`` and a
    plain ``message`` saying what went wrong (the key taken out); 429 past the rate."""
    config = operations.get(
        ModelConfig.objects.select_related("secret"),
        request,
        pk=model_id,
        not_found=f"Model {model_id} was not found.",
    )
    quotas.hit(quotas.MODEL_TESTS, operations.caller(request).pk)
    return check_connection(config)
