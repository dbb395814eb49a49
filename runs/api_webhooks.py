"""Webhooks in the JSON API: a workspace's managers name URLs to be told when a team's runs
end or wait, and read every delivery attempt of a run (``webhook.*`` permissions)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

import httpx
from django.db import transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field, HttpUrl, field_validator

from teams.models import Team
from teams.schemas import ErrorOut
from workspaces import operations
from workspaces.operations import requires

from . import quotas, webhooks
from .models import Run, Webhook, WebhookDelivery

router = Router(tags=["webhooks"])

MAX_URL_LENGTH = Webhook._meta.get_field("url").max_length or 2000
Kind = Literal["finished", "failed", "waiting", "escalated"]


class WebhookIn(Schema):
    url: HttpUrl = Field(description="Where to POST; http or https, on a public address.")
    events: list[Kind] = Field(
        default=["finished", "failed", "waiting"], min_length=1, description="Which run events."
    )

    @field_validator("url")
    @classmethod
    def fits(cls, url: HttpUrl) -> HttpUrl:
        # Checked after normalisation (punycode, percent-encoding), which can lengthen it.
        if len(str(url)) > MAX_URL_LENGTH:
            raise ValueError(f"A webhook URL may have at most {MAX_URL_LENGTH} characters.")
        return url

    @field_validator("events")
    @classmethod
    def distinct(cls, events: list[Kind]) -> list[Kind]:
        return list(dict.fromkeys(events))


class WebhookOut(Schema):
    id: int
    url: str
    events: list[str]
    is_active: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery. Shown only now: keep it.")


class DeliveryOut(Schema):
    id: int
    webhook_id: int
    delivery_id: uuid.UUID
    kind: str
    url: str
    attempt: int
    ok: bool
    status_code: int | None
    error: str
    duration_ms: int
    next_retry_at: datetime | None
    created_at: datetime


def _team(request: HttpRequest, team_id: int) -> Team:
    return operations.get(
        Team.objects.all(), request, pk=team_id, not_found=f"Team {team_id} was not found."
    )


@router.get("/teams/{team_id}/webhooks", response={200: list[WebhookOut], 404: ErrorOut})
@requires("webhook.view")
def list_webhooks(request: HttpRequest, team_id: int) -> Any:
    return _team(request, team_id).webhooks.all()


@router.post(
    "/teams/{team_id}/webhooks",
    response={201: WebhookCreated, 400: ErrorOut, 404: ErrorOut, 422: ErrorOut},
)
@requires("webhook.edit")
def create_webhook(request: HttpRequest, team_id: int, body: WebhookIn) -> Any:
    team = _team(request, team_id)
    url = str(body.url)
    try:
        webhooks.check_destination(url)
    except webhooks.BlockedAddress as exc:
        raise HttpError(422, f"This webhook URL is not allowed. {exc}") from exc
    except httpx.HTTPError:
        pass  # not resolvable from here; it may be from the workers, which check again
    with transaction.atomic():
        quotas.admit_webhook(team)
        webhook = Webhook.objects.create(
            team=team, url=url, events=body.events, secret=webhooks.new_secret()
        )
    return Status(201, webhooks.recorded(webhook, request.auth, "webhook.created"))


@router.delete("/teams/{team_id}/webhooks/{webhook_id}", response={204: None, 404: ErrorOut})
@requires("webhook.edit")
def delete_webhook(request: HttpRequest, team_id: int, webhook_id: int) -> Any:
    webhook = _team(request, team_id).webhooks.filter(id=webhook_id).first()
    if webhook is None:
        raise HttpError(404, f"Webhook {webhook_id} was not found.")
    webhooks.recorded(webhook, request.auth, "webhook.deleted").delete()
    return Status(204, None)


@router.get("/runs/{run_id}/webhook-deliveries", response={200: list[DeliveryOut], 404: ErrorOut})
@requires("webhook.view")
def list_deliveries(request: HttpRequest, run_id: uuid.UUID) -> Any:
    run = operations.get(
        Run.objects.all(), request, id=run_id, not_found=f"Run {run_id} was not found."
    )
    return WebhookDelivery.objects.filter(run=run).order_by("created_at", "attempt")
