"""Webhooks: POST a signed JSON body to a team's URLs when one of its runs finishes, fails or
waits for a person.

The one call the run shell makes is ``schedule_for(run, kind)`` where a run reaches one of those
states; delivery happens after the transaction commits, on a Celery worker (or a timer thread in
the embedded default), one attempt per task, each attempt recorded as a ``WebhookDelivery``.

A receiver checks a delivery like this (docs/operating.md has it in full)::

    expected = hmac.new(secret, f"{timestamp}.".encode() + raw_body, sha256).hexdigest()
    ok = hmac.compare_digest(f"sha256={expected}", request.headers["X-Orchestrator-Signature"])

and refuses a timestamp more than a few minutes old, so a captured delivery cannot be replayed.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from celery import shared_task
from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from runs.engine.tools.netguard import (
    BlockedAddress,
    NetworkPolicy,
    check_url,
    guarded_async_client,
)
from workspaces.activity import record

from .models import Run, Webhook, WebhookDelivery
from .shell import store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Orchestrator-Signature"
TIMESTAMP_HEADER = "X-Orchestrator-Timestamp"
EVENT_HEADER = "X-Orchestrator-Event"
DELIVERY_HEADER = "X-Orchestrator-Delivery"

KIND_FOR_STATUS = {
    Run.Status.SUCCEEDED: Webhook.Kind.FINISHED,
    Run.Status.FAILED: Webhook.Kind.FAILED,
    Run.Status.WAITING: Webhook.Kind.WAITING,
}


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 over ``<timestamp>.<raw body>``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def network_policy() -> NetworkPolicy:
    """The same rule as the network tools: public addresses only, unless the operator allows."""
    return NetworkPolicy.allowing(settings.TOOLS_ALLOWED_PRIVATE_NETWORKS)


def check_destination(url: str) -> None:
    """Raises ``BlockedAddress`` (or ``httpx.HTTPError``) for a URL deliveries may not reach."""
    check_url(url, network_policy())


def schedule_for(run: Run, kind: str | None = None) -> None:
    """Queue a delivery to every webhook of ``run``'s team that wants ``kind`` (by default the
    kind for the run's status). Safe to call inside the transaction that changed the status:
    nothing is sent unless it commits."""
    schedule_for_runs([run], kind)


def schedule_for_runs(runs: Sequence[Run], kind: str | None = None) -> None:
    """``schedule_for`` each of ``runs``, reading their teams' webhooks in one query."""
    kinds = {run.id: kind or KIND_FOR_STATUS.get(run.status) for run in runs}
    teams = {run.team_id for run in runs if kinds[run.id] and run.team_id is not None}
    if not teams:
        return
    hooks: dict[int, list[Webhook]] = defaultdict(list)
    for webhook in store.select_in(Webhook, "team", teams):  # for every run that ends: in SQL
        if webhook.is_active:
            hooks[webhook.team_id].append(webhook)
    for run in runs:
        run_kind = kinds[run.id]
        if run_kind is None:
            continue
        for webhook in hooks[run.team_id]:
            if webhook.wants(run_kind):
                body = delivery_body(run, run_kind, delivery_id := str(uuid.uuid4()))
                args = (webhook.id, str(run.id), run_kind, delivery_id, body, 1)
                transaction.on_commit(lambda args=args: enqueue_attempt(*args, countdown=0))


def notify_escalated(run: Run, escalation: dict[str, Any]) -> None:
    """Queue an ``escalated`` delivery to every webhook of ``run``'s team that wants it;
    ``escalation`` is the ``sla.escalated`` event's payload, sent along as it is."""
    if run.team_id is None:
        return
    kind = "escalated"  # Webhook.Kind.ESCALATED
    for webhook in Webhook.objects.filter(team_id=run.team_id, is_active=True):
        if webhook.wants(kind):
            delivery_id = str(uuid.uuid4())
            body = delivery_body(run, kind, delivery_id, escalation=escalation)
            args = (webhook.id, str(run.id), kind, delivery_id, body, 1)
            transaction.on_commit(lambda args=args: enqueue_attempt(*args, countdown=0))


def delivery_body(
    run: Run, kind: str, delivery_id: str, *, escalation: dict[str, Any] | None = None
) -> str:
    """The JSON every attempt of one delivery sends, byte for byte."""
    document: dict[str, Any] = {
        "id": delivery_id,
        "type": f"run.{kind}",
        "created_at": timezone.now().isoformat(),
        "run": {
            "id": str(run.id),
            "team_id": run.team_id,
            "team_name": run.team_name,
            "status": run.status,
            "output": run.output,
            "failure_reason": run.failure_reason,
            "waiting_for": run.waiting_for,
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": str(run.cost_usd),
            "url": f"{settings.SITE_URL.rstrip('/')}/runs/{run.id}/",
        },
    }
    if escalation is not None:
        document["escalation"] = escalation
    return json.dumps(document, separators=(",", ":"), default=str)


def enqueue_attempt(
    webhook_id: int, run_id: str, kind: str, delivery_id: str, body: str, attempt: int, *,
    countdown: float,
) -> None:  # fmt: skip
    args = (webhook_id, run_id, kind, delivery_id, body, attempt)
    if settings.RUN_EXECUTOR == "celery":
        deliver_webhook.apply_async(args, countdown=countdown)
        return
    # The embedded default has no worker: a timer thread stands in for the countdown.
    timer = threading.Timer(countdown, _deliver_in_thread, args)
    timer.daemon = True
    timer.start()


def _deliver_in_thread(*args: Any) -> None:
    try:
        attempt_delivery(*args)
    finally:
        close_old_connections()


@shared_task(ignore_result=True)
def deliver_webhook(
    webhook_id: int, run_id: str, kind: str, delivery_id: str, body: str, attempt: int
) -> None:
    attempt_delivery(webhook_id, run_id, kind, delivery_id, body, attempt)


def attempt_delivery(
    webhook_id: int, run_id: str, kind: str, delivery_id: str, body: str, attempt: int
) -> WebhookDelivery | None:
    """POST once, record the attempt, and queue the next one if this one may be retried."""
    webhook = Webhook.objects.filter(id=webhook_id, is_active=True).first()
    if webhook is None or not Run.objects.filter(id=run_id).exists():
        return None  # deleted since: nothing to tell anyone
    status_code, error, transient, duration_ms = _post(webhook, kind, delivery_id, body)
    ok = status_code is not None and 200 <= status_code < 300
    retry_in = _retry_delay(attempt) if not ok and transient else None
    record = WebhookDelivery.objects.create(
        webhook=webhook,
        run_id=run_id,
        delivery_id=delivery_id,
        kind=kind,
        url=webhook.url,
        attempt=attempt,
        ok=ok,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
        next_retry_at=timezone.now() + timedelta(seconds=retry_in)
        if retry_in is not None
        else None,
    )
    _count(webhook, kind, ok)
    if retry_in is not None:
        enqueue_attempt(
            webhook_id, run_id, kind, delivery_id, body, attempt + 1, countdown=retry_in
        )
    return record


def _retry_delay(attempt: int) -> float | None:
    """Exponential backoff: base, 2x base, 4x base... until the attempts run out."""
    if attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        return None
    return float(settings.WEBHOOK_RETRY_BASE_S * 2 ** (attempt - 1))


def _post(
    webhook: Webhook, kind: str, delivery_id: str, body: str
) -> tuple[int | None, str, bool, int]:
    """(status code, error, whether a retry may help, milliseconds taken)."""
    raw = body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "agent-team-orchestrator-webhooks/1",
        SIGNATURE_HEADER: sign(webhook.secret, timestamp, raw),
        TIMESTAMP_HEADER: str(timestamp),
        EVENT_HEADER: f"run.{kind}",
        DELIVERY_HEADER: delivery_id,
    }
    started = time.monotonic()
    try:
        status = asyncio.run(_send(webhook.url, raw, headers))
    except BlockedAddress as exc:
        return None, str(exc), False, _ms_since(started)
    except TimeoutError:
        error = f"The receiver did not answer within {settings.WEBHOOK_TIMEOUT_S:g} s in all."
        return None, error, True, _ms_since(started)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}", True, _ms_since(started)
    error = "" if status < 300 else f"The receiver answered HTTP {status}."
    return status, error, status >= 500 or status in (408, 429), _ms_since(started)


async def _send(url: str, raw: bytes, headers: dict[str, str]) -> int:
    """POSTs and returns the status. The whole attempt (connect, send, the status line and
    headers) has ``WEBHOOK_TIMEOUT_S``, whatever the receiver drips; its body is never read,
    so an endless one costs nothing."""
    timeout = settings.WEBHOOK_TIMEOUT_S
    async with (
        asyncio.timeout(timeout),
        guarded_async_client(network_policy(), timeout=timeout) as client,
        client.stream("POST", url, content=raw, headers=headers) as response,
    ):
        return response.status_code


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _count(webhook: Webhook, kind: str, ok: bool) -> None:
    from . import metrics  # metrics imports nothing from here; keep the import graph one-way

    metrics.observe_webhook_attempt(kind, ok)


def recorded(webhook: Webhook, actor: Any, action: str) -> Webhook:
    """``webhook`` after its creation or deletion (``action``), written to its team's
    workspace activity log (its URL and events; never its signing secret)."""
    team = webhook.team
    detail = {"url": webhook.url, "events": webhook.events, "team": team.name}
    record(team.workspace_id, actor, action, webhook.url, **detail)
    return webhook
