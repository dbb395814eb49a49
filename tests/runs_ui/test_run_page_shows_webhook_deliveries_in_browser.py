"""In a real Chromium: the run page lists every attempt to deliver the run's webhooks, failed
ones with why and retries as they happen."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from runs.models import Run, Webhook, WebhookDelivery
from tests.browser import LiveServer
from tests.factories import append_event, make_run_of, make_supervisor_team

pytestmark = pytest.mark.browser


def test_every_delivery_attempt_is_on_the_run_page(page: Page, asgi_server: LiveServer) -> None:
    team = make_supervisor_team(page.user)
    run = make_run_of(team, status=Run.Status.SUCCEEDED, output={"answer": 42})
    append_event(run, "run.started", payload={"input": run.input})
    append_event(run, "run.finished", payload={"output": run.output})
    hook = Webhook.objects.create(
        team=team, url="https://hooks.example.org/runs", events=["finished"], secret="s"
    )
    delivery = uuid.uuid4()

    def attempt(number: int, **fields: object) -> WebhookDelivery:
        return WebhookDelivery.objects.create(
            webhook=hook, run=run, delivery_id=delivery, kind="finished", url=hook.url,
            attempt=number, duration_ms=40, **fields,
        )  # fmt: skip

    # The receiver answered 500 once; a retry is due in a moment.
    attempt(1, ok=False, status_code=500, next_retry_at=timezone.now() + timedelta(seconds=2))
    page.goto(f"/runs/{run.id}/")
    deliveries = page.get_by_role("region", name="Webhook deliveries")
    expect(deliveries).to_contain_text("finished, attempt 1: failed: HTTP 500; retrying")

    # The retry succeeds: the page shows it without a reload.
    attempt(2, ok=True, status_code=200)
    expect(deliveries).to_contain_text("finished, attempt 2: delivered (HTTP 200)", timeout=15000)
    expect(deliveries.locator("li")).to_have_count(2)
