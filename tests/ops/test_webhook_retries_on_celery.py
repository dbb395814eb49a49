"""On the production stack the retries are Celery tasks: a real worker on Redis delivers,
and a receiver that fails first is tried again after the backoff."""

from __future__ import annotations

from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from orchestration_site.celery import app
from runs import webhooks
from runs.models import Run, WebhookDelivery
from tests.factories import make_run_of, make_supervisor_team, make_user
from tests.ops.helpers import http_receiver, wait_until


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_retries_a_failing_receiver(client: Client, settings: Any) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_BASE_S = 0.2
    settings.RUN_EXECUTOR = "celery"
    alice = make_user()
    client.force_login(alice)
    team = make_supervisor_team(alice)

    app.control.purge()  # tasks other tests left in this broker database are not ours to run
    with (
        http_receiver([502, 200]) as receiver,
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
    ):
        response = client.post(
            f"/api/teams/{team.id}/webhooks",
            {"url": receiver.url, "events": ["finished"]},
            content_type="application/json",
        )
        assert response.status_code == 201
        run = make_run_of(team, status=Run.Status.SUCCEEDED)

        webhooks.schedule_for(run)

        wait_until(
            lambda: WebhookDelivery.objects.filter(run=run, ok=True).exists(),
            "the worker to deliver after one retry",
            within_s=60,
        )

    recorded = WebhookDelivery.objects.filter(run=run).order_by("attempt")
    assert [(a.attempt, a.status_code) for a in recorded] == [(1, 502), (2, 200)]
    assert len(receiver.requests) == 2
