"""/metrics speaks the Prometheus text format behind a token, and its counts follow a run."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from runs import metrics
from runs.models import Run
from tests.factories import make_run_of, make_supervisor_team, make_user
from tests.ops.helpers import store_events, supervisor_events

TOKEN = "scrape-me-please"


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def delta(before: dict, after: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.mark.django_db
def test_it_refuses_a_scrape_without_the_token(client: Client, metrics_token: str) -> None:
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 403
    assert "metrics token" in wrong.json()["detail"]


@pytest.mark.django_db
def test_it_is_closed_when_no_token_is_configured(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json()["detail"]


@pytest.mark.django_db
def test_its_counts_change_as_a_run_goes(client: Client, metrics_token: str) -> None:
    team = make_supervisor_team(make_user())
    run = make_run_of(team)
    before = scrape(client)
    assert delta(before, scrape(client), "orchestrator_queue_depth") == 0
    assert scrape(client)[("orchestrator_queue_depth", ())] >= 1

    # The run starts: it leaves the queue and counts as started.
    events = supervisor_events()
    Run.objects.filter(id=run.id).update(status=Run.Status.RUNNING)
    run.refresh_from_db()
    for row in store_events(run, events[:2]):
        metrics.observe_event(run, row)
    running = scrape(client)
    assert delta(before, running, "orchestrator_runs_started_total", team=team.name) == 1
    assert delta(before, running, "orchestrator_queue_depth") == -1
    assert delta(before, running, "orchestrator_runs_active", status="running") == 1

    # It goes on to its end: model calls, tokens, tool calls, agent and run durations.
    # (The rest arrives as one batch, as the sink commits it: the lead began in the first one.)
    run.started_at = run.created_at
    metrics.observe_events(run, store_events(run, events[2:]))
    done = scrape(client)
    usages = [e.payload for e in events if e.type == "usage"]
    tokens_in = sum(u["input_tokens"] for u in usages)
    tokens_out = sum(u["output_tokens"] for u in usages)

    def change(name: str, **labels: str) -> float:
        return delta(running, done, name, **labels)

    assert change("orchestrator_model_calls_total", model="offline") == len(usages) == 4
    assert (
        change("orchestrator_model_tokens_total", model="offline", direction="input") == tokens_in
    )
    assert (
        change("orchestrator_model_tokens_total", model="offline", direction="output") == tokens_out
    )
    assert change("orchestrator_tool_calls_total", tool="calculator") == 1
    assert change("orchestrator_tool_calls_total", tool="delegate_to_researcher") == 1
    # The offline model writes no arithmetic, so the calculator answered with an error.
    assert change("orchestrator_tool_errors_total", tool="calculator") == 1
    assert change("orchestrator_runs_finished_total", team=team.name, status="succeeded") == 1
    assert (
        change("orchestrator_run_duration_seconds_count", team=team.name, status="succeeded") == 1
    )
    assert delta(before, done, "orchestrator_queue_depth") == 0 - 1
    assert delta(before, done, "orchestrator_events_total", type="message") == sum(
        e.type == "message" for e in events
    )

    # The researcher worked from its agent.started to its agent.finished: one observation,
    # its duration in the sum, counted in every bucket from the first that holds it.
    agent = {"agent": "researcher", "status": "ok"}
    started, finished = (
        e.ts for e in events if e.agent == "researcher" and e.type.startswith("agent.")
    )
    assert change("orchestrator_agent_duration_seconds_count", **agent) == 1
    assert change("orchestrator_agent_duration_seconds_count", agent="lead", status="ok") == 1
    assert change("orchestrator_agent_duration_seconds_sum", **agent) == pytest.approx(
        finished - started, abs=1e-5
    )
    first_bucket = next(b for b in metrics.DURATION_BUCKETS if finished - started <= b)
    for bound in metrics.DURATION_BUCKETS:
        le = "+Inf" if bound == float("inf") else repr(float(bound))
        expected = 1 if bound >= first_bucket else 0
        assert change("orchestrator_agent_duration_seconds_bucket", **agent, le=le) == expected


@pytest.mark.django_db
def test_it_counts_websocket_clients_retries_and_fallbacks(
    client: Client, metrics_token: str
) -> None:
    run = make_run_of(make_supervisor_team(make_user()))
    before = scrape(client)
    metrics.websocket_connected("run")
    metrics.websocket_connected("run")
    metrics.websocket_disconnected("run")
    metrics.observe_event(run, {"type": "retry", "ts": 1.0, "payload": {"attempt": 1}})
    metrics.observe_event(run, {"type": "fallback", "ts": 2.0, "payload": {}})
    metrics.observe_event(
        run, {"type": "tool.result", "ts": 3.0, "payload": {"tool": "http_request", "ok": False}}
    )
    after = scrape(client)
    assert delta(before, after, "orchestrator_websocket_clients", socket="run") == 1
    assert delta(before, after, "orchestrator_retries_total") == 1
    assert delta(before, after, "orchestrator_fallbacks_total") == 1
    assert delta(before, after, "orchestrator_tool_errors_total", tool="http_request") == 1
