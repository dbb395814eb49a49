"""The dashboard's figures, from runs and events created here."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from runs import stats
from runs.models import Run
from tests.factories import append_event, make_run, make_team, minimal_spec

NOW = timezone.now()


def finished_run(owner, team, status, seconds, **kwargs):
    started = NOW - timedelta(hours=1)
    return make_run(
        owner,
        team,
        status=status,
        started_at=started,
        finished_at=started + timedelta(seconds=seconds),
        **kwargs,
    )


def usage(run, agent, tin, tout, cost):
    payload = {"model": "offline", "input_tokens": tin, "output_tokens": tout, "cost_usd": cost}
    append_event(run, "usage", agent, payload=payload)


def agent_span(run, agent, span, seconds):
    start = NOW - timedelta(minutes=30)
    append_event(run, "agent.started", agent, span_id=span, ts=start)
    finish = start + timedelta(seconds=seconds)
    append_event(run, "agent.finished", agent, span_id=span, ts=finish, payload={"status": "ok"})


def test_it_computes_the_success_rate_over_finished_runs_only(alice, bob) -> None:
    team = make_team(alice)
    for status in ["succeeded", "succeeded", "succeeded", "failed"]:
        finished_run(alice, team, status, 10)
    make_run(alice, team, status=Run.Status.RUNNING)
    finished_run(bob, None, "failed", 10)  # someone else's runs do not count
    d = stats.dashboard(alice)
    assert (d.total_runs, d.finished_runs, d.succeeded_runs) == (5, 4, 3)
    assert d.success_rate == 0.75


def test_it_computes_duration_percentiles(alice) -> None:
    team = make_team(alice)
    for seconds in range(1, 21):  # 1 s .. 20 s
        finished_run(alice, team, "succeeded", seconds)
    d = stats.dashboard(alice)
    assert d.p50_duration_s == 10
    assert d.p95_duration_s == 19


def test_it_counts_runs_per_day_within_the_window(alice) -> None:
    team = make_team(alice)
    finished_run(alice, team, "succeeded", 1)
    failed = finished_run(alice, team, "failed", 1)
    old = make_run(alice, team)
    Run.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(days=40))
    Run.objects.filter(pk=failed.pk).update(created_at=NOW - timedelta(days=2))
    days = stats.dashboard(alice, days=30).runs_per_day
    assert [(d.runs, d.succeeded, d.failed) for d in days] == [(1, 0, 1), (1, 1, 0)]
    assert days[0].day < days[1].day


def test_a_days_runs_add_up_with_the_cancelled_ones(alice_client: Client, alice) -> None:
    team = make_team(alice)
    for status in ["succeeded", "failed", "cancelled", "cancelled"]:
        finished_run(alice, team, status, 1)
    make_run(alice, team, status=Run.Status.RUNNING)
    (day,) = stats.dashboard(alice).runs_per_day
    assert (day.runs, day.succeeded, day.failed, day.cancelled) == (5, 1, 1, 2)
    html = alice_client.get("/dashboard/").text
    assert "<th>Cancelled</th>" in html
    assert "<td>5</td><td>1</td><td>1</td><td>2</td>" in html


def test_it_sums_tokens_and_cost_per_team(alice) -> None:
    research, writing = (
        make_team(alice, minimal_spec(name="Research")),
        make_team(alice, minimal_spec(name="Writing")),
    )
    finished_run(alice, research, "succeeded", 1, input_tokens=100, cost_usd=Decimal("0.5"))
    finished_run(alice, research, "succeeded", 1, input_tokens=50, cost_usd=Decimal("0.25"))
    finished_run(alice, writing, "succeeded", 1, output_tokens=7, cost_usd=Decimal("0.1"))
    rows = {r.name: r for r in stats.dashboard(alice).per_team}
    assert (rows["Research"].runs, rows["Research"].input_tokens) == (2, 150)
    assert rows["Research"].cost_usd == Decimal("0.75")
    assert rows["Writing"].output_tokens == 7


def test_it_sums_tokens_and_cost_per_agent_from_usage_events(alice) -> None:
    team = make_team(alice, minimal_spec(name="Research"))
    one, two = finished_run(alice, team, "succeeded", 1), finished_run(alice, team, "failed", 1)
    usage(one, "planner", 10, 20, 0.001)
    usage(one, "planner", 5, 5, 0.002)
    usage(two, "planner", 1, 1, 0.0005)
    usage(two, "writer", 100, 200, 0.01)
    rows = {r.name: r for r in stats.dashboard(alice).per_agent}
    planner = rows["planner"]
    assert (planner.team, planner.runs, planner.input_tokens, planner.output_tokens) == (
        "Research",
        2,
        16,
        26,
    )
    assert planner.cost_usd == pytest.approx(Decimal("0.0035"))
    assert rows["writer"].output_tokens == 200
    assert [r.name for r in stats.dashboard(alice).per_agent] == ["writer", "planner"]


def test_it_ranks_the_slowest_agents_by_their_agent_spans(alice) -> None:
    team = make_team(alice, minimal_spec(name="Research"))
    run = finished_run(alice, team, "succeeded", 100)
    agent_span(run, "fast", "s1", 2)
    agent_span(run, "slow", "s2", 30)
    agent_span(run, "slow", "s3", 10)
    append_event(run, "agent.started", "unfinished", span_id="s4")
    slowest = stats.dashboard(alice).slowest_agents
    assert [(a.agent, a.spans) for a in slowest] == [("slow", 2), ("fast", 1)]
    assert (slowest[0].p50_s, slowest[0].p95_s, slowest[0].max_s) == (10, 30, 30)


def test_a_person_answering_a_human_node_is_not_ranked_as_a_slow_agent(alice) -> None:
    team = make_team(alice, minimal_spec(name="Launch"))
    run = finished_run(alice, team, "succeeded", 4000)
    agent_span(run, "drafter", "s1", 5)
    start = NOW - timedelta(minutes=30)
    append_event(run, "agent.started", "approver", span_id="h1", ts=start)
    append_event(run, "human.requested", "approver", span_id="h1", ts=start)
    append_event(run, "agent.finished", "approver", span_id="h1", ts=start + timedelta(hours=1))
    assert [a.agent for a in stats.dashboard(alice).slowest_agents] == ["drafter"]


def test_it_shows_nothing_but_dashes_without_runs(alice) -> None:
    d = stats.dashboard(alice)
    assert (d.total_runs, d.success_rate, d.p50_duration_s) == (0, None, None)
    assert d.per_agent == [] and d.slowest_agents == []


def test_the_page_shows_the_figures(alice_client: Client, alice) -> None:
    team = make_team(alice, minimal_spec(name="Research"))
    run = finished_run(alice, team, "succeeded", 12)
    finished_run(alice, team, "failed", 12)
    usage(run, "planner", 10, 20, 0.001)
    agent_span(run, "planner", "s1", 3)
    html = alice_client.get("/dashboard/?days=7").text
    assert 'data-figure="success-rate">50%' in html
    assert 'data-figure="p50">12.0 s' in html
    assert "planner" in html
    assert alice_client.get("/dashboard/?days=nonsense").status_code == 200


def test_percentile_uses_the_nearest_rank() -> None:
    assert stats.percentile([], 50) is None
    assert stats.percentile([3.0], 95) == 3.0
    assert stats.percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.0
    assert stats.percentile([4.0, 1.0, 3.0, 2.0], 100) == 4.0
