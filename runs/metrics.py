"""Prometheus metrics, served at ``/metrics`` in the text format.

Runs execute on Celery workers, possibly on other machines than the web process that is
scraped, so counters cannot live in one process's memory. Every process adds to one shared
store instead: a Redis hash when ``REDIS_URL`` is set (one pipelined ``HINCRBYFLOAT`` round
trip per event, correct across any number of machines), a dict in the embedded default where
everything is one process. At scrape time a ``prometheus_client`` collector reads the store and
renders it, together with gauges read live from the database and the broker (queue depth).

The run shell counts every event it appends: ``observe_events`` from the web tier, and
``observe_many`` from an executor, for what all the runs of its process appended lately
(one round trip now and then, not one per batch of events). The websocket consumer calls
``websocket_connected()`` / ``websocket_disconnected()``.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import Any, Protocol

import redis
from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from runs.engine import events as ev

log = logging.getLogger(__name__)

PREFIX = "orchestrator_"
DURATION_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, float("inf"))

COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "runs_started": ("Runs that started executing.", ("team",)),
    "runs_finished": ("Runs that ended, by final status.", ("team", "status")),
    "model_calls": ("Model responses received.", ("model",)),
    "model_tokens": ("Tokens used, by model and direction.", ("model", "direction")),
    "tool_calls": ("Tool calls that returned a result.", ("tool",)),
    "tool_errors": ("Tool calls whose result was an error.", ("tool",)),
    "retries": ("Activities retried after a transient error.", ()),
    "fallbacks": ("Agents replaced by their fallback agent.", ()),
    "events": ("Run events stored and streamed, by type.", ("type",)),
    "webhook_deliveries": ("Webhook delivery attempts, by outcome.", ("kind", "outcome")),
}
HISTOGRAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "run_duration_seconds": ("Time from a run's start to its end.", ("team", "status")),
    "agent_duration_seconds": ("Time an agent worked on one task.", ("agent", "status")),
}
GAUGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "websocket_clients": ("Websocket clients connected to run pages.", ()),
}


# --- the shared store -------------------------------------------------------------------


class MetricStore(Protocol):
    def add(self, amounts: Mapping[str, float]) -> None: ...

    def read(self) -> dict[str, float]: ...


class MemoryStore:
    """The embedded default: one process, so one dict."""

    def __init__(self) -> None:
        self._values: dict[str, float] = defaultdict(float)
        self._lock = threading.Lock()

    def add(self, amounts: Mapping[str, float]) -> None:
        with self._lock:
            for field, amount in amounts.items():
                self._values[field] += amount

    def read(self) -> dict[str, float]:
        with self._lock:
            return dict(self._values)


class RedisStore:
    """Every web and worker process, on every machine, adds to one Redis hash."""

    def __init__(self, url: str, key: str) -> None:
        self._redis = redis.Redis.from_url(url)
        self._key = key

    def add(self, amounts: Mapping[str, float]) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for field, amount in amounts.items():
            pipe.hincrbyfloat(self._key, field, amount)
        pipe.execute()

    def read(self) -> dict[str, float]:
        return {k.decode(): float(v) for k, v in self._redis.hgetall(self._key).items()}


@cache
def store() -> MetricStore:
    if settings.REDIS_URL:
        return RedisStore(settings.REDIS_URL, settings.METRICS_REDIS_KEY)
    return MemoryStore()


def _field(name: str, labels: Mapping[str, str]) -> str:
    """One store field per metric and label set: ``name`` + the labels as sorted JSON."""
    return _field_of(name, tuple(sorted(labels.items())))


@lru_cache(maxsize=4096)
def _field_of(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    # Remembered: an executor counts every event of every run, and the same few fields
    # come up again and again (serializing them each time cost more than storing the event).
    return name + json.dumps(dict(labels), separators=(",", ":"))


def _split(field: str) -> tuple[str, dict[str, str]]:
    name, _, labels = field.partition("{")
    return name, json.loads("{" + labels)


def _add(amounts: dict[str, float]) -> None:
    """Metrics must never break what they measure: a store that is down loses the sample."""
    if not amounts:
        return
    try:
        store().add(amounts)
    except redis.RedisError as exc:
        log.warning("Metrics sample lost, the metrics store is unreachable: %s", exc)


def _observe(amounts: dict[str, float], name: str, labels: dict[str, str], value: float) -> None:
    """One histogram observation, counted in every bucket it fits (so buckets are cumulative)."""
    total, count, buckets = _histogram_fields(name, tuple(sorted(labels.items())))
    amounts[total] += value
    amounts[count] += 1
    for bound, field in zip(DURATION_BUCKETS, buckets, strict=True):
        if value <= bound:
            amounts[field] += 1


@lru_cache(maxsize=1024)
def _histogram_fields(
    name: str, labels: tuple[tuple[str, str], ...]
) -> tuple[str, str, tuple[str, ...]]:
    """The store fields of one histogram series: its sum, its count and a bucket per bound."""
    series = dict(labels)
    return (
        _field(f"{name}:sum", series),
        _field(f"{name}:count", series),
        tuple(_field(f"{name}:le", {**series, "le": _bound(b)}) for b in DURATION_BUCKETS),
    )


def _bound(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


# --- what the shell calls ---------------------------------------------------------------


def observe_event(run: Any, event: Any) -> None:
    """Count one appended event. ``event`` is an engine ``Event``, a ``RunEvent`` or a dict."""
    observe_events(run, [event])


def observe_events(run: Any, events: Sequence[Any]) -> None:
    """Count events appended to ``run`` together: one round trip to the store for them all."""
    _add(counts(run, events))


def observe_many(appended: Sequence[tuple[Any, Sequence[Any], Mapping[str, float]]]) -> None:
    """Count what several runs appended, given as (run, events, agent starts) as for
    ``counts``: one round trip to the store for them all."""
    total: dict[str, float] = defaultdict(float)
    for run, events, agent_starts in appended:
        for field, amount in counts(run, events, agent_starts).items():
            total[field] += amount
    _add(total)


def counts(
    run: Any, events: Sequence[Any], agent_starts: Mapping[str, float] | None = None
) -> dict[str, float]:
    """What appending ``events`` to ``run`` adds to the store. ``agent_starts`` (span id:
    start time) spares looking up the start of an agent that finishes among ``events``;
    a start it lacks is read from the run's stored events."""
    amounts: dict[str, float] = defaultdict(float)
    team = getattr(run, "team_name", "") or ""
    agent_starts = _agent_starts(run, events, agent_starts or {})
    for event in events:
        type_, payload, ts = _event_fields(event)
        amounts[_field("events", {"type": type_})] += 1
        if type_ == ev.RUN_STARTED:
            amounts[_field("runs_started", {"team": team})] += 1
        elif type_ in ev.TERMINAL_TYPES:
            _count_run_end(amounts, run, team, _final_status(type_), ts)
        elif type_ == ev.AGENT_FINISHED:
            start = agent_starts.get(_get(event, "span_id"))
            if start is not None and ts is not None:
                labels = {
                    "agent": _get(event, "agent") or "",
                    "status": str(payload.get("status") or "ok"),
                }
                _observe(amounts, "agent_duration_seconds", labels, max(0.0, ts - start))
        elif type_ == ev.USAGE:
            model = str(payload.get("model") or "")
            amounts[_field("model_calls", {"model": model})] += 1
            for direction in ("input", "output"):
                tokens = float(payload.get(f"{direction}_tokens") or 0)
                amounts[_field("model_tokens", {"model": model, "direction": direction})] += tokens
        elif type_ == ev.TOOL_RESULT:
            tool = str(payload.get("tool") or "")
            amounts[_field("tool_calls", {"tool": tool})] += 1
            if not payload.get("ok", True):
                amounts[_field("tool_errors", {"tool": tool})] += 1
        elif type_ == ev.RETRY:
            amounts[_field("retries", {})] += 1
        elif type_ == ev.FALLBACK:
            amounts[_field("fallbacks", {})] += 1
    return amounts


def _count_run_end(
    amounts: dict[str, float], run: Any, team: str, status: str, ts: float | None
) -> None:
    amounts[_field("runs_finished", {"team": team, "status": status})] += 1
    started = getattr(run, "started_at", None)
    if started is not None and ts is not None:
        seconds = max(0.0, ts - started.timestamp())
        _observe(amounts, "run_duration_seconds", {"team": team, "status": status}, seconds)


def websocket_connected() -> None:
    _add({_field("websocket_clients", {}): 1.0})


def websocket_disconnected() -> None:
    _add({_field("websocket_clients", {}): -1.0})


def observe_webhook_attempt(kind: str, ok: bool) -> None:
    _add({_field("webhook_deliveries", {"kind": kind, "outcome": "ok" if ok else "error"}): 1.0})


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


def _agent_starts(run: Any, events: Sequence[Any], known: Mapping[str, float]) -> dict[str, float]:
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
    stored = getattr(run, "events", None) if missing else None
    if stored is not None:
        rows = stored.filter(type=ev.AGENT_STARTED, span_id__in=missing).values_list(
            "span_id", "ts"
        )
        starts |= {span_id: ts.timestamp() for span_id, ts in rows}
    return {**known, **{span: ts for span, ts in starts.items() if ts is not None}}


# --- the scrape -------------------------------------------------------------------------


class StoreCollector(Collector):
    """Renders the shared store, and gauges read live, as Prometheus metric families."""

    def collect(self) -> Iterator[Metric]:
        values = store().read()
        yield from self._counters(values)
        yield from self._histograms(values)
        yield from self._gauges(values)
        yield from live_gauges()

    def _counters(self, values: dict[str, float]) -> Iterator[Metric]:
        for name, (doc, labels) in COUNTERS.items():
            family = CounterMetricFamily(PREFIX + name, doc, labels=list(labels))
            for field, value in values.items():
                field_name, field_labels = _split(field)
                if field_name == name:
                    family.add_metric([field_labels.get(label, "") for label in labels], value)
            yield family

    def _gauges(self, values: dict[str, float]) -> Iterator[Metric]:
        for name, (doc, _labels) in GAUGES.items():
            yield GaugeMetricFamily(
                PREFIX + name, doc, value=max(0.0, values.get(_field(name, {}), 0.0))
            )

    def _histograms(self, values: dict[str, float]) -> Iterator[Metric]:
        for name, (doc, labels) in HISTOGRAMS.items():
            family = HistogramMetricFamily(PREFIX + name, doc, labels=list(labels))
            series: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
            for field, value in values.items():
                field_name, field_labels = _split(field)
                if field_name.startswith(name + ":"):
                    key = tuple(field_labels.get(label, "") for label in labels)
                    part = field_name.split(":", 1)[1]
                    series[key][field_labels["le"] if part == "le" else part] = value
            for key, parts in sorted(series.items()):
                buckets = [(_bound(b), parts.get(_bound(b), 0.0)) for b in DURATION_BUCKETS]
                # Each observation was counted in every bucket it fits: already cumulative.
                family.add_metric(list(key), buckets, sum_value=parts.get("sum", 0.0))
            yield family


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


def render() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector())
    return generate_latest(registry)


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
