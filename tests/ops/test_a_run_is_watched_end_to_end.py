"""A run started through the API and executed by the runs backend is watched the way an
operator watches production: its trace reaches the OTLP collector, /metrics counts it, and the
team's webhook receiver is told it finished (on a web-process thread here; on a Celery worker
with Redis in CI)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from runs import telemetry
from runs.models import RunEvent, WebhookDelivery
from tests.factories import make_supervisor_team, make_user
from tests.ops.helpers import http_receiver, wait_until
from tests.runs.helpers import logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "scrape-token"


@pytest.fixture(autouse=True)
def ops_settings(settings: Any) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.METRICS_TOKEN = TOKEN
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    settings.WEBHOOK_RETRY_BASE_S = 0.05


def scrape() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = Client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.content.decode())
        for s in family.samples
    }


def test_a_finished_run_is_traced_counted_and_announced(otel_on: list[Any]) -> None:
    alice = make_user()
    client = logged_in(alice)
    team = make_supervisor_team(alice)
    before = scrape()

    with http_receiver([200]) as receiver:
        hook = client.post(
            f"/api/teams/{team.id}/webhooks",
            {"url": receiver.url, "events": ["finished"]},
            content_type="application/json",
        )
        assert hook.status_code == 201
        run_id = start(client, team.id, {"question": "What is 6*7?"})

        run = wait_for_status(run_id, "succeeded", "failed")
        assert run.status == "succeeded", run.failure_reason
        wait_until(lambda: receiver.requests, "the webhook delivery")
        wait_until(lambda: WebhookDelivery.objects.filter(run=run, ok=True).exists(), "its record")

    # The receiver was told, with the run's id and output.
    body = json.loads(receiver.requests[0].body)
    assert (body["type"], body["run"]["id"], body["run"]["status"]) == (
        "run.finished",
        run_id,
        "succeeded",
    )

    # The trace: one span per agent, turn, tool call and model call, under the run's span.
    telemetry.tracer_provider().force_flush()
    spans = wait_until(lambda: otel_on, "the trace to arrive")
    assert {span.trace_id.hex() for span in spans} == {run.id.hex}
    names = [span.name for span in spans]
    events = list(RunEvent.objects.filter(run=run))
    usages = [e.payload for e in events if e.type == "usage"]
    assert names.count("chat offline") == len(usages) > 0
    assert {"run Research desk", "invoke_agent lead", "invoke_agent researcher"} <= set(names)
    assert "execute_tool calculator" in names

    # The metrics: one more run started and finished, its model calls and tokens counted.
    after = scrape()

    def change(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert change("orchestrator_runs_started_total", team=team.name) == 1
    assert change("orchestrator_runs_finished_total", team=team.name, status="succeeded") == 1
    assert (
        change("orchestrator_run_duration_seconds_count", team=team.name, status="succeeded") == 1
    )
    assert change("orchestrator_model_calls_total", model="offline") == len(usages)
    assert change("orchestrator_model_tokens_total", model="offline", direction="input") == sum(
        u["input_tokens"] for u in usages
    )
    assert change("orchestrator_tool_calls_total", tool="calculator") == 1
    assert change("orchestrator_events_total", type="run.finished") == 1
    assert change("orchestrator_webhook_deliveries_total", kind="finished", outcome="ok") == 1
