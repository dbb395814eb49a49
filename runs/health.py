"""Health endpoints for load balancers and docker-compose: ``/healthz`` says the process
answers; ``/readyz`` says it can do its work (database, channel layer and broker reachable).

Anyone may ask ``/readyz``, so it tells anyone only ready or not; which dependency failed and
why (error texts name internal hosts) is for the metrics token's bearer and staff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .metrics import has_metrics_token

CHECK_TIMEOUT_S = 2.0


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {name: _outcome(check) for name, check in READINESS_CHECKS.items()}
    ready = all(result == "ok" for result in checks.values())
    body: dict[str, Any] = {"status": "ok" if ready else "unavailable"}
    if has_metrics_token(request) or request.user.is_staff:
        body["checks"] = checks
    return JsonResponse(body, status=200 if ready else 503)


def _outcome(check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # any failure at all means "not ready", with its reason
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_channel_layer() -> None:
    config = settings.CHANNEL_LAYERS["default"]
    for host in config.get("CONFIG", {}).get("hosts", []):
        _ping_redis(host if isinstance(host, str) else host["address"])


def check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        _ping_redis(url)
    elif not url.startswith("memory://"):
        from orchestration_site.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=CHECK_TIMEOUT_S)


def _ping_redis(url: str) -> None:
    client = redis.Redis.from_url(
        url, socket_timeout=CHECK_TIMEOUT_S, socket_connect_timeout=CHECK_TIMEOUT_S
    )
    try:
        client.ping()
    finally:
        client.close()


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "channel_layer": check_channel_layer,
    "broker": check_broker,
}
