"""Schedules cost whether or not their runs may start: each fires (a task, a firing row, a
log line) as often as every minute. A team may have 50, and teams cost nothing to make, so
one person could have thousands firing every minute. The teams of one person (whose runs
the schedules start) now have at most ``MAX_SCHEDULES_PER_OWNER`` schedules in all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils.timezone import now

from tests.factories import make_supervisor_team
from triggers.actions import MAX_SCHEDULES_PER_OWNER
from triggers.models import Schedule

pytestmark = pytest.mark.django_db


def test_a_person_s_teams_have_at_most_so_many_schedules(alice_client: Client, alice: User) -> None:
    # Alice's first teams hold as many schedules as one person's teams may, none over 50.
    teams = [make_supervisor_team(alice, f"Team {n}") for n in range(3)]
    Schedule.objects.bulk_create(
        Schedule(team=teams[n % 2], cron="* * * * *", armed_at=now())
        for n in range(MAX_SCHEDULES_PER_OWNER)
    )

    # A new team of hers, with none yet, gets no more.
    refused = alice_client.post(
        f"/api/teams/{teams[2].id}/schedules",
        {"cron": "* * * * *"},
        content_type="application/json",
    )

    assert refused.status_code == 422
    assert f"{MAX_SCHEDULES_PER_OWNER} schedules" in refused.json()["detail"]
    assert Schedule.objects.count() == MAX_SCHEDULES_PER_OWNER
    # Deleting one makes room again.
    Schedule.objects.filter(team=teams[0]).first().delete()
    allowed = alice_client.post(
        f"/api/teams/{teams[2].id}/schedules",
        {"cron": "* * * * *"},
        content_type="application/json",
    )
    assert allowed.status_code == 201, allowed.content
