"""A team's webhook receiver gets a signed POST when a run finishes; a receiver that fails is
retried with backoff and every attempt is recorded; private addresses are never reached."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client

from runs import webhooks
from runs.models import Run, Webhook, WebhookDelivery
from teams.models import Team
from tests.factories import make_run_of, make_supervisor_team, make_user
from tests.ops.helpers import http_receiver, wait_until


@pytest.fixture
def fast_retries(settings: Any) -> None:
    # Receivers in tests listen on loopback, which only this setting lets deliveries reach.
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_BASE_S = 0.05
    settings.RUN_EXECUTOR = "thread"


def add_webhook(client: Client, team: Team, url: str, events: list[str] | None = None) -> dict:
    body = {"url": url, "events": events or ["finished", "failed"]}
    response = client.post(f"/api/teams/{team.id}/webhooks", body, content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def finished_run(team: Team) -> Run:
    return make_run_of(team, status=Run.Status.SUCCEEDED, output={"answer": 42})


def attempts(run: Run) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(run=run).order_by("attempt"))


@pytest.mark.django_db(transaction=True)
def test_the_receiver_gets_a_correctly_signed_delivery(client: Client, fast_retries: None) -> None:
    alice = make_user()
    client.force_login(alice)
    team = make_supervisor_team(alice)
    with http_receiver([200]) as receiver:
        secret = add_webhook(client, team, f"{receiver.url}/hooks/runs")["secret"]
        run = finished_run(team)

        webhooks.schedule_for(run)

        wait_until(lambda: receiver.requests, "the receiver to be called")
        wait_until(lambda: attempts(run), "the attempt to be recorded")

    # What a receiver checks, following the documented recipe.
    request = receiver.requests[0]
    timestamp = request.headers["X-Orchestrator-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["X-Orchestrator-Signature"] == f"sha256={expected.hexdigest()}"
    assert request.path == "/hooks/runs"
    body = json.loads(request.body)
    assert body["type"] == "run.finished"
    assert body["run"]["id"] == str(run.id)
    assert body["run"]["output"] == {"answer": 42}
    assert request.headers["X-Orchestrator-Delivery"] == body["id"]
    # Signed with another secret, the same body does not verify.
    forged = hmac.new(b"not-the-secret", f"{timestamp}.".encode() + request.body, hashlib.sha256)
    assert request.headers["X-Orchestrator-Signature"] != f"sha256={forged.hexdigest()}"

    [attempt] = attempts(run)
    assert (attempt.ok, attempt.status_code, attempt.next_retry_at) == (True, 200, None)


@pytest.mark.django_db(transaction=True)
def test_a_failing_receiver_is_retried_and_every_attempt_is_recorded(
    client: Client, fast_retries: None
) -> None:
    alice = make_user()
    client.force_login(alice)
    team = make_supervisor_team(alice)
    with http_receiver([500, 500, 200]) as receiver:
        add_webhook(client, team, receiver.url)
        run = finished_run(team)

        webhooks.schedule_for(run)

        wait_until(lambda: len(attempts(run)) == 3, "three attempts to be recorded")

    first, second, third = attempts(run)
    assert [a.status_code for a in (first, second, third)] == [500, 500, 200]
    assert [a.ok for a in (first, second, third)] == [False, False, True]
    assert first.error == "The receiver answered HTTP 500."
    assert first.next_retry_at is not None and second.next_retry_at is not None
    assert third.next_retry_at is None
    # One delivery, three attempts: the same id and the same bytes each time.
    assert len({a.delivery_id for a in (first, second, third)}) == 1
    assert len({r.body for r in receiver.requests}) == 1

    # The run's owner reads the attempts through the API (what the run page shows).
    shown = client.get(f"/api/runs/{run.id}/webhook-deliveries").json()
    assert [(a["attempt"], a["status_code"], a["ok"]) for a in shown] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]


@pytest.mark.django_db(transaction=True)
def test_it_gives_up_after_the_last_attempt(
    client: Client, fast_retries: None, settings: Any
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    alice = make_user()
    client.force_login(alice)
    team = make_supervisor_team(alice)
    with http_receiver([503]) as receiver:
        add_webhook(client, team, receiver.url)
        run = finished_run(team)
        webhooks.schedule_for(run)
        wait_until(lambda: len(attempts(run)) == 2, "two attempts to be recorded")
        last = attempts(run)[-1]

    assert (last.ok, last.next_retry_at) == (False, None)
    assert len(receiver.requests) == 2


@pytest.mark.django_db(transaction=True)
def test_only_the_kinds_a_webhook_asked_for_are_sent(client: Client, fast_retries: None) -> None:
    alice = make_user()
    client.force_login(alice)
    team = make_supervisor_team(alice)
    with http_receiver([200]) as receiver:
        add_webhook(client, team, receiver.url, events=["failed"])
        webhooks.schedule_for(finished_run(team))
        failed = make_run_of(team, status=Run.Status.FAILED, failure_reason="The lead gave up.")
        webhooks.schedule_for(failed)
        wait_until(lambda: attempts(failed), "the failed run's delivery")

    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["run.failed"]
    assert json.loads(receiver.requests[0].body)["run"]["failure_reason"] == "The lead gave up."


@pytest.mark.django_db(transaction=True)
def test_a_webhook_on_a_private_address_is_refused(client: Client, settings: Any) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = []
    settings.RUN_EXECUTOR = "thread"
    alice = make_user()
    client.force_login(alice)
    team = make_supervisor_team(alice)

    # Naming one: refused with a reason, nothing saved.
    for url, reason in [
        ("http://10.1.2.3/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("http://127.0.0.1:9/hook", "loopback"),
    ]:
        response = client.post(
            f"/api/teams/{team.id}/webhooks", {"url": url}, content_type="application/json"
        )
        assert response.status_code == 422
        assert reason in response.json()["detail"]
    assert not Webhook.objects.exists()

    # Delivering to one (saved while the operator allowed it, refused now): never reached,
    # recorded as refused, not retried.
    with http_receiver([200]) as receiver:
        Webhook.objects.create(team=team, url=receiver.url, events=["finished"], secret="s")
        run = finished_run(team)
        webhooks.schedule_for(run)
        [attempt] = wait_until(lambda: attempts(run), "the refused attempt to be recorded")

    assert receiver.requests == []
    assert attempt.ok is False and attempt.status_code is None
    assert "loopback" in attempt.error
    assert attempt.next_retry_at is None
