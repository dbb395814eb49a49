"""A schedule's tick starts one run, however many times it is fired: by two beats, by a
beat and a restart, by the web process's loop. A tick missed while everything was down
fires once when a process starts; ticks from before the schedule was armed never fire."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from runs.models import Run
from tests.factories import make_supervisor_team
from tests.runs.helpers import race
from triggers import actions
from triggers.models import Schedule, ScheduleFiring

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("dispatched")]


def make_schedule(
    team: Any, cron: str = "* * * * *", armed_at: datetime | None = None, **fields: Any
) -> Schedule:
    schedule = actions.do_save_schedule(Schedule(team=team, cron=cron, **fields), rearm=True)
    if armed_at is not None:
        Schedule.objects.filter(id=schedule.id).update(armed_at=armed_at)
    return schedule


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_a_tick_fired_twice_starts_one_run(alice: User, dispatched: list[str]) -> None:
    schedule = make_schedule(
        make_supervisor_team(alice), armed_at=at("2026-01-05 08:00"), input={"q": 1}
    )

    first = actions.do_fire(schedule.id, at("2026-01-05 09:00:02"))
    second = actions.do_fire(schedule.id, at("2026-01-05 09:00:40"))  # another beat, late

    assert first is not None and second is None
    run = Run.objects.get()
    assert (run.input, run.started_by) == ({"q": 1}, f"schedule:{schedule.id}")
    assert dispatched == [str(run.id)]
    firing = ScheduleFiring.objects.get()
    assert (firing.tick, firing.run_id, firing.duplicates) == (at("2026-01-05 09:00"), run.id, 1)


def test_two_processes_firing_the_same_tick_at_once_start_one_run(alice: User) -> None:
    schedule = make_schedule(make_supervisor_team(alice), armed_at=at("2026-01-05 08:00"))

    race(lambda: actions.do_fire(schedule.id, at("2026-01-05 09:00:01")), threads=4)

    assert Run.objects.count() == 1
    assert ScheduleFiring.objects.get().duplicates == 3


def test_each_tick_starts_its_own_run(alice: User) -> None:
    schedule = make_schedule(make_supervisor_team(alice), armed_at=at("2026-01-05 08:00"))

    for minute in ("09:00:01", "09:00:30", "09:01:00", "09:01:59", "09:02:10"):
        actions.do_fire(schedule.id, at(f"2026-01-05 {minute}"))

    ticks = ScheduleFiring.objects.order_by("tick").values_list("tick", flat=True)
    assert list(ticks) == [at("2026-01-05 09:00"), at("2026-01-05 09:01"), at("2026-01-05 09:02")]
    assert Run.objects.count() == 3


def test_ticks_missed_while_down_fire_once_when_a_process_starts(alice: User) -> None:
    # Every day at 09:00 Paris time, armed a week ago; nothing ran for three days.
    team = make_supervisor_team(alice)
    schedule = make_schedule(
        team, "0 9 * * *", armed_at=at("2026-01-01 00:00"), timezone="Europe/Paris"
    )
    actions.do_fire(schedule.id, at("2026-01-02 08:00:01"))

    # The process starts on the 5th at noon: its loop fires the latest missed tick, once.
    assert actions.fire_due(at("2026-01-05 12:00")) == 1
    assert actions.fire_due(at("2026-01-05 12:00:10")) == 0

    ticks = list(ScheduleFiring.objects.values_list("tick", flat=True))
    assert ticks == [at("2026-01-05 08:00"), at("2026-01-02 08:00")]  # 09:00 in Paris is 08:00 UTC


def test_a_tick_before_the_schedule_was_armed_does_not_fire(alice: User) -> None:
    schedule = make_schedule(
        make_supervisor_team(alice), "0 9 * * *", armed_at=at("2026-01-05 10:00")
    )

    assert actions.fire_due(at("2026-01-05 11:00")) == 0
    assert actions.do_fire(schedule.id, at("2026-01-05 11:00")) is None

    assert not Run.objects.exists()


def test_a_disabled_schedule_does_not_fire(alice: User) -> None:
    schedule = make_schedule(
        make_supervisor_team(alice), armed_at=at("2026-01-05 08:00"), enabled=False
    )

    assert actions.fire_due(at("2026-01-05 09:00")) == 0
    assert actions.do_fire(schedule.id, at("2026-01-05 09:00")) is None
    assert not Run.objects.exists()


def test_a_tick_the_team_refuses_is_recorded_not_retried(alice: User, alice_client: Client) -> None:
    team = make_supervisor_team(alice)
    schedule = make_schedule(team, armed_at=at("2026-01-05 08:00"), version=99)

    actions.fire_due(at("2026-01-05 09:00"))
    actions.fire_due(at("2026-01-05 09:00:30"))

    firing = ScheduleFiring.objects.get()
    assert firing.run_id is None and "no version 99" in firing.error
    [listed] = alice_client.get(f"/api/teams/{team.id}/schedules").json()
    assert listed["recent_firings"][0]["error"] == firing.error
    assert schedule.id == listed["id"]


def test_the_run_api_says_a_schedule_started_the_run(alice: User, alice_client: Client) -> None:
    schedule = make_schedule(make_supervisor_team(alice), armed_at=at("2026-01-05 08:00"))
    firing = actions.do_fire(schedule.id, at("2026-01-05 09:00"))
    assert firing is not None

    run = alice_client.get(f"/api/runs/{firing.run_id}").json()

    assert run["started_by"] == f"schedule:{schedule.id}"
