"""The dashboard's figures, computed from a user's runs and their events.

Counts and sums are database aggregations (portable across SQLite and PostgreSQL). Percentiles
have no portable SQL form, so they are computed in Python over a bounded window of the most
recent rows: the figures stay cheap however long the history grows.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.utils import timezone

from .engine.events import AGENT_FINISHED, AGENT_STARTED, HUMAN_REQUESTED, USAGE
from .models import Run, RunEvent

#: How many recent rows percentiles are computed over.
PERCENTILE_WINDOW = 2000


def percentile(values: Sequence[float], p: float) -> float | None:
    """The nearest-rank percentile (``p`` in 0..100) of ``values``; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class DayCount:
    day: date
    runs: int
    succeeded: int
    failed: int
    cancelled: int


@dataclass(frozen=True)
class UsageRow:
    name: str
    team: str
    runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: Decimal


@dataclass(frozen=True)
class AgentTiming:
    team: str
    agent: str
    spans: int
    p50_s: float | None
    p95_s: float | None
    max_s: float


@dataclass(frozen=True)
class Dashboard:
    since: datetime
    total_runs: int
    finished_runs: int
    succeeded_runs: int
    success_rate: float | None
    p50_duration_s: float | None
    p95_duration_s: float | None
    runs_per_day: list[DayCount]
    per_team: list[UsageRow]
    per_agent: list[UsageRow]
    slowest_agents: list[AgentTiming]


def runs_per_day(runs: QuerySet[Run]) -> list[DayCount]:
    rows = (
        runs.annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            n=Count("id"),
            ok=Count("id", filter=Q(status=Run.Status.SUCCEEDED)),
            bad=Count("id", filter=Q(status=Run.Status.FAILED)),
            off=Count("id", filter=Q(status=Run.Status.CANCELLED)),
        )
        .order_by("day")
    )
    return [DayCount(r["day"], r["n"], r["ok"], r["bad"], r["off"]) for r in rows]


def run_durations(runs: QuerySet[Run]) -> list[float]:
    """Seconds from start to finish of the most recent finished runs (a bounded window)."""
    rows = (
        runs.finished()
        .filter(started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:PERCENTILE_WINDOW]
    )
    return [(end - start).total_seconds() for start, end in rows]


def usage_per_team(runs: QuerySet[Run]) -> list[UsageRow]:
    rows = (
        runs.values("team_name")
        .annotate(
            n=Count("id"),
            tin=Sum("input_tokens"),
            tout=Sum("output_tokens"),
            cost=Sum("cost_usd"),
        )
        .order_by("-cost", "-tout", "team_name")
    )
    return [
        UsageRow(
            r["team_name"], r["team_name"], r["n"], r["tin"] or 0, r["tout"] or 0, r["cost"] or 0
        )
        for r in rows
    ]


def _payload_int(key: str) -> Coalesce:
    return Coalesce(Sum(Cast(KeyTextTransform(key, "payload"), BigIntegerField())), 0)


def usage_per_agent(runs: QuerySet[Run]) -> list[UsageRow]:
    """Tokens and cost per agent, summed over the ``usage`` events its model calls recorded."""
    rows = (
        RunEvent.objects.filter(run__in=runs, type=USAGE)
        .values("run__team_name", "agent")
        .annotate(
            n=Count("run", distinct=True),
            tin=_payload_int("input_tokens"),
            tout=_payload_int("output_tokens"),
            cost=Sum(
                Cast(
                    KeyTextTransform("cost_usd", "payload"),
                    DecimalField(max_digits=14, decimal_places=6),
                )
            ),
        )
        .order_by("-cost", "-tout", "agent")
    )
    return [
        UsageRow(
            r["agent"] or "(run)",
            r["run__team_name"],
            r["n"],
            r["tin"],
            r["tout"],
            Decimal(r["cost"] or 0),
        )
        for r in rows
    ]


def agent_spans(runs: QuerySet[Run]) -> Iterable[tuple[str, str, float]]:
    """(team, agent, seconds) for the most recent finished agent spans (a bounded window).

    An agent span is the agent.started and agent.finished events sharing a ``span_id``. A
    span that asked a person (a human node) is left out: its time is the person's, and it
    would rank first however fast the agents are.
    """
    in_span = RunEvent.objects.filter(run=OuterRef("run"), span_id=OuterRef("span_id"))
    started = in_span.filter(type=AGENT_STARTED).values("ts")[:1]
    rows = (
        RunEvent.objects.filter(run__in=runs, type=AGENT_FINISHED)
        .exclude(span_id="")
        .exclude(Exists(in_span.filter(type=HUMAN_REQUESTED)))
        .annotate(started_ts=Subquery(started))
        .filter(started_ts__isnull=False)
        .order_by("-ts")
        .values_list("run__team_name", "agent", "started_ts", "ts")[:PERCENTILE_WINDOW]
    )
    for team, agent, start, end in rows:
        yield team, agent, (end - start).total_seconds()


def slowest_agents(runs: QuerySet[Run], limit: int = 10) -> list[AgentTiming]:
    durations: dict[tuple[str, str], list[float]] = defaultdict(list)
    for team, agent, seconds in agent_spans(runs):
        durations[team, agent].append(seconds)
    timings = [
        AgentTiming(
            team, agent, len(values), percentile(values, 50), percentile(values, 95), max(values)
        )
        for (team, agent), values in durations.items()
    ]
    timings.sort(key=lambda t: (-(t.p95_s or 0), t.team, t.agent))
    return timings[:limit]


def dashboard(
    user: Any, days: int = 30, now: datetime | None = None, workspace: Any = None
) -> Dashboard:
    """Everything the dashboard shows for the runs created in the last ``days`` days that
    ``user`` may read, in ``workspace`` only when one is given (the page's)."""
    since = (now or timezone.now()) - timedelta(days=days)
    runs = Run.objects.for_user(user).filter(created_at__gte=since)
    if workspace is not None:
        runs = runs.filter(workspace=workspace)
    counts = runs.aggregate(
        total=Count("id"),
        finished=Count("id", filter=Q(status__in=Run.FINISHED_STATUSES)),
        succeeded=Count("id", filter=Q(status=Run.Status.SUCCEEDED)),
    )
    durations = run_durations(runs)
    return Dashboard(
        since=since,
        total_runs=counts["total"],
        finished_runs=counts["finished"],
        succeeded_runs=counts["succeeded"],
        success_rate=counts["succeeded"] / counts["finished"] if counts["finished"] else None,
        p50_duration_s=percentile(durations, 50),
        p95_duration_s=percentile(durations, 95),
        runs_per_day=runs_per_day(runs),
        per_team=usage_per_team(runs),
        per_agent=usage_per_agent(runs),
        slowest_agents=slowest_agents(runs),
    )
