"""Prometheus metrics, through ``prometheus_client``'s own model, served at ``/metrics``.

Each process counts in its own registry: a counter is a number in memory (under a lock), so
counting an event costs a microsecond and never a round trip, and nothing about metrics runs
inside a run's transactions. With several processes on one host (Celery's prefork children,
daphne), set ``PROMETHEUS_MULTIPROC_DIR`` for all of them to one empty directory: each
process then writes its values to files there, and ``/metrics`` (or a worker's own
``METRICS_WORKER_PORT``) adds up every process's (``prometheus_client.multiprocess``).
Gauges read live from the database and the broker (queue depth) are added at scrape time.

The run shell counts every event it stores: ``observe_events`` for the events of one run
(the executor's sink after each write, a run's end after it is recorded, the web tier's
appends after they commit). The websocket consumers call ``websocket_connected(socket)`` /
``websocket_disconnected(socket)``, ``socket`` telling them apart: ``run`` (a run page,
``/ws/runs/<id>/``) or ``experiment`` (``/ws/experiments/<id>/``).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import redis
from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from runs.engine import events as ev

log = logging.getLogger(__name__)

PREFIX = "orchestrator_"
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))

RUNS_STARTED = Counter(PREFIX + "runs_started", "Runs that started executing.", ["team"])
RUNS_FINISHED = Counter(
    PREFIX + "runs_finished", "Runs that ended, by final status.", ["team", "status"]
)
MODEL_CALLS = Counter(PREFIX + "model_calls", "Model responses received.", ["model"])
MODEL_TOKENS = Counter(
    PREFIX + "model_tokens", "Tokens used, by model and direction.", ["model", "direction"]
)
TOOL_CALLS = Counter(PREFIX + "tool_calls", "Tool calls that returned a result.", ["tool"])
TOOL_ERRORS = Counter(PREFIX + "tool_errors", "Tool calls whose result was an error.", ["tool"])
RETRIES = Counter(PREFIX + "retries", "Activities retried after a transient error.")
FALLBACKS = Counter(PREFIX + "fallbacks", "Agents replaced by their fallback agent.")
EVENTS = Counter(PREFIX + "events", "Run events stored and streamed, by type.", ["type"])
WEBHOOK_DELIVERIES = Counter(
    PREFIX + "webhook_deliveries", "Webhook delivery attempts, by outcome.", ["kind", "outcome"]
)
RUN_DURATION = Histogram(
    PREFIX + "run_duration_seconds",
    "Time from a run's start to its end.",
    ["team", "status"],
    buckets=DURATION_BUCKETS,
)
AGENT_DURATION = Histogram(
    PREFIX + "agent_duration_seconds",
    "Time an agent worked on one task.",
    ["agent", "status"],
    buckets=DURATION_BUCKETS,
)
WEBSOCKET_CLIENTS = Gauge(
    PREFIX + "websocket_clients",
    "Websocket clients watching, by socket (run or experiment).",
    ["socket"],
    multiprocess_mode="livesum",  # the clients of the processes alive now, added up
)


# --- what the shell calls ---------------------------------------------------------------


def observe_event(run: Any, event: Any) -> None:
    """Count one stored event. ``event`` is an engine ``Event``, a ``RunEvent`` or a dict."""
    observe_events(run, [event])


def observe_events(
    run: Any,
    events: Sequence[Any],
    agent_starts: Mapping[str, float] | None = None,
    *,
    look_up: bool = True,
) -> None:
    """Count events stored for ``run`` together. ``agent_starts`` (span id: start time)
    spares looking up the start of an agent that finishes among ``events``; with ``look_up``
    a start it lacks is read from the run's stored events (never on the run loop, which
    passes every start it saw). Metrics never break what they measure: a failure here is
    logged, not raised."""
    try:
        _observe(run, events, agent_starts or {}, look_up)
    except Exception:
        log.warning("Could not count %d events for /metrics", len(events), exc_info=True)


def _observe(
    run: Any, events: Sequence[Any], agent_starts: Mapping[str, float], look_up: bool
) -> None:
    team = getattr(run, "team_name", "") or ""
    agent_starts = _agent_starts(run, events, agent_starts, look_up)
    for event in events:
        type_, payload, ts = _event_fields(event)
        EVENTS.labels(type_).inc()
        if type_ == ev.RUN_STARTED:
            RUNS_STARTED.labels(team).inc()
        elif type_ in ev.TERMINAL_TYPES:
            _count_run_end(run, team, _final_status(type_), ts)
        elif type_ == ev.AGENT_FINISHED:
            start = agent_starts.get(_get(event, "span_id"))
            if start is not None and ts is not None:
                status = str(payload.get("status") or "ok")
                AGENT_DURATION.labels(_get(event, "agent") or "", status).observe(
                    max(0.0, ts - start)
                )
        elif type_ == ev.USAGE:
            model = str(payload.get("model") or "")
            MODEL_CALLS.labels(model).inc()
            for direction in ("input", "output"):
                tokens = float(payload.get(f"{direction}_tokens") or 0)
                MODEL_TOKENS.labels(model, direction).inc(tokens)
        elif type_ == ev.TOOL_RESULT:
            tool = str(payload.get("tool") or "")
            TOOL_CALLS.labels(tool).inc()
            if not payload.get("ok", True):
                TOOL_ERRORS.labels(tool).inc()
        elif type_ == ev.RETRY:
            RETRIES.inc()
        elif type_ == ev.FALLBACK:
            FALLBACKS.inc()


def _count_run_end(run: Any, team: str, status: str, ts: float | None) -> None:
    RUNS_FINISHED.labels(team, status).inc()
    started = getattr(run, "started_at", None)
    if started is not None and ts is not None:
        RUN_DURATION.labels(team, status).observe(max(0.0, ts - started.timestamp()))


def websocket_connected(socket: str) -> None:
    WEBSOCKET_CLIENTS.labels(socket).inc()


def websocket_disconnected(socket: str) -> None:
    WEBSOCKET_CLIENTS.labels(socket).dec()


def observe_webhook_attempt(kind: str, ok: bool) -> None:
    WEBHOOK_DELIVERIES.labels(kind, "ok" if ok else "error").inc()


def _final_status(terminal_type: str) -> str:
    return {ev.RUN_FINISHED: "succeeded", ev.RUN_FAILED: "failed"}.get(terminal_type, "cancelled")


def _event_fields(event: Any) -> tuple[str, dict[str, Any], float | None]:
    if isinstance(event, Mapping):
        return event["type"], event.get("payload") or {}, _seconds(event.get("ts"))
    return event.type, event.payload or {}, _seconds(event.ts)


def _seconds(ts: Any) -> float | None:
    if isinstance(ts, datetime):
        return ts.timestamp()
    return float(ts) if ts is not None else None


def _get(event: Any, name: str) -> Any:
    return event.get(name) if isinstance(event, Mapping) else getattr(event, name, None)


def _agent_starts(
    run: Any, events: Sequence[Any], known: Mapping[str, float], look_up: bool
) -> dict[str, float]:
    """When each agent span that finishes among ``events`` began: ``known``, and for the
    others their agent.started event, in the same batch or already stored (one query)."""
    finishing = {_get(e, "span_id") for e in events if _get(e, "type") == ev.AGENT_FINISHED}
    finishing -= set(known)
    starts = {
        _get(e, "span_id"): _seconds(_get(e, "ts"))
        for e in events
        if _get(e, "type") == ev.AGENT_STARTED and _get(e, "span_id") in finishing
    }
    missing = finishing - set(starts) - {None, ""}
    # ``run.events`` makes a related manager: only when there is something to look up.
    stored = getattr(run, "events", None) if missing and look_up else None
    if stored is not None:
        rows = stored.filter(type=ev.AGENT_STARTED, span_id__in=missing).values_list(
            "span_id", "ts"
        )
        starts |= {span_id: ts.timestamp() for span_id, ts in rows}
    return {**known, **{span: ts for span, ts in starts.items() if ts is not None}}


# --- the scrape -------------------------------------------------------------------------


class LiveGauges(Collector):
    """Gauges read at scrape time, so they are right whichever process changed them."""

    def collect(self) -> Iterator[Metric]:
        return live_gauges()


def live_gauges() -> Iterator[Metric]:
    """Read at scrape time, so they are right whichever process changed them."""
    from .models import Run

    by_status = GaugeMetricFamily(
        PREFIX + "runs_active", "Runs not yet ended, by status.", labels=["status"]
    )
    counts = dict(
        Run.objects.active()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    for status in Run.ACTIVE_STATUSES:
        by_status.add_metric([str(status)], counts.get(status, 0))
    yield by_status
    yield GaugeMetricFamily(
        PREFIX + "queue_depth", "Runs queued and not yet picked up by a worker.",
        value=counts.get(Run.Status.QUEUED, 0),
    )  # fmt: skip
    broker = broker_queue_length()
    if broker is not None:
        yield GaugeMetricFamily(
            PREFIX + "celery_queue_length",
            "Tasks waiting in the Celery broker queue.",
            value=broker,
        )


def broker_queue_length() -> int | None:
    if settings.RUN_EXECUTOR != "celery" or not settings.CELERY_BROKER_URL.startswith("redis"):
        return None
    try:
        return int(redis.Redis.from_url(settings.CELERY_BROKER_URL).llen("celery"))
    except redis.RedisError:
        return None


def multiprocess_dir() -> str:
    """Where the processes of this host write their values, if they share them."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def registry() -> CollectorRegistry:
    """What a scrape reads: every process of this host when they share a directory, else
    this process's own registry."""
    if multiprocess_dir():
        shared = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(shared)
        return shared
    return REGISTRY


def render() -> bytes:
    """The metrics in the text format: the processes' counts, then the live gauges."""
    live = CollectorRegistry(auto_describe=False)
    live.register(LiveGauges())
    return generate_latest(registry()) + generate_latest(live)


def start_worker_server() -> None:
    """Serve this host's metrics (``registry``) on ``METRICS_WORKER_PORT`` from a Celery
    worker, for Prometheus to scrape workers on hosts without a web process. The counts only:
    the live gauges are the same everywhere and come from /metrics."""
    if settings.METRICS_WORKER_PORT:
        start_http_server(
            settings.METRICS_WORKER_PORT, addr=settings.METRICS_WORKER_ADDRESS, registry=registry()
        )


def process_ended(pid: int) -> None:
    """Drop a process's live gauges from the shared directory (its counters stay counted)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        return _refuse(403, "Metrics are off. Set METRICS_TOKEN and scrape with that bearer token.")
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _refuse(401, "Send the metrics token as `Authorization: Bearer <METRICS_TOKEN>`.")
    if not has_metrics_token(request):
        return _refuse(403, "That is not the metrics token.")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)


def has_metrics_token(request: HttpRequest) -> bool:
    """Whether the request carries ``Authorization: Bearer <METRICS_TOKEN>`` (never, when no
    token is set)."""
    header = request.headers.get("Authorization", "")
    return bool(settings.METRICS_TOKEN) and hmac.compare_digest(
        header.removeprefix("Bearer ").encode(), f"{settings.METRICS_TOKEN}".encode()
    )


def _refuse(status: int, detail: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"detail": detail}), status=status, content_type="application/json"
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response
