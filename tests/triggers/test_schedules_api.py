"""The schedules API: a team's owner adds, lists, changes and removes schedules; each one's
beat entry follows it in the database; bad cron or zone is a 422 at the field; nobody else
sees that a team or its schedules exist."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django_celery_beat.models import PeriodicTask

from tests.factories import make_supervisor_team, make_user

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, body, content_type="application/json")


def patch(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.patch(url, body, content_type="application/json")


def test_the_owner_adds_changes_and_removes_a_schedule(alice_client: Client, alice: User) -> None:
    team = make_supervisor_team(alice)
    url = f"/api/teams/{team.id}/schedules"

    created = post(
        alice_client,
        url,
        {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris", "input": {"question": "Close?"}},
    )
    assert created.status_code == 201, created.content
    schedule = created.json()
    assert (schedule["cron"], schedule["timezone"], schedule["enabled"]) == (
        "0 9 * * 1-5", "Europe/Paris", True,
    )  # fmt: skip
    assert schedule["next_run_at"].endswith("09:00:00+01:00")  # 9 o'clock in Paris, in winter

    # Beat reads its entry from the database: there from the start, in step with each change.
    task = PeriodicTask.objects.get()
    assert (task.task, task.args, task.enabled) == (
        "triggers.tasks.fire_schedule",
        f"[{schedule['id']}]",
        True,
    )
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "9", "1-5")
    assert str(task.crontab.timezone) == "Europe/Paris"

    changed = patch(
        alice_client, f"/api/schedules/{schedule['id']}", {"cron": "*/15 * * * *", "enabled": False}
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["cron"], changed.json()["next_run_at"]) == ("*/15 * * * *", None)
    task.refresh_from_db()
    assert (task.crontab.minute, task.crontab.hour, task.enabled) == ("*/15", "*", False)

    [listed] = alice_client.get(url).json()
    assert listed["input"] == {"question": "Close?"}

    assert alice_client.delete(f"/api/schedules/{schedule['id']}").status_code == 204
    assert alice_client.get(url).json() == []
    assert not PeriodicTask.objects.exists()


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"cron": "61 * * * *"}, "cron", "not a cron expression"),
        ({"cron": "* * *"}, "cron", "give five"),
        ({"cron": "0 0 1 * 1"}, "cron", "not both"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "timezone", "IANA time zone"),
        ({"cron": "* * * * *", "timezone": "../../etc/passwd"}, "timezone", "IANA time zone"),
    ],
)
def test_a_bad_cron_or_zone_is_a_422_at_the_field(
    alice_client: Client, alice: User, body: dict[str, Any], field: str, says: str
) -> None:
    team = make_supervisor_team(alice)

    response = post(alice_client, f"/api/teams/{team.id}/schedules", body)

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["path"] == field
    assert says in problem["message"]
    assert not PeriodicTask.objects.exists()


def test_a_bad_change_is_a_422_and_changes_nothing(alice_client: Client, alice: User) -> None:
    team = make_supervisor_team(alice)
    schedule = post(alice_client, f"/api/teams/{team.id}/schedules", {"cron": "0 * * * *"}).json()

    response = patch(alice_client, f"/api/schedules/{schedule['id']}", {"timezone": "Nowhere"})

    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "timezone"
    assert alice_client.get(f"/api/teams/{team.id}/schedules").json()[0]["timezone"] == "UTC"


def test_nobody_else_sees_or_changes_a_teams_schedules(client: Client, alice: User) -> None:
    team = make_supervisor_team(alice)
    alices = Client()
    alices.force_login(alice)
    schedule = post(alices, f"/api/teams/{team.id}/schedules", {"cron": "0 * * * *"}).json()
    client.force_login(make_user("bob"))

    assert client.get(f"/api/teams/{team.id}/schedules").status_code == 404
    assert post(client, f"/api/teams/{team.id}/schedules", {"cron": "* * * * *"}).status_code == 404
    assert patch(client, f"/api/schedules/{schedule['id']}", {"enabled": False}).status_code == 404
    assert client.delete(f"/api/schedules/{schedule['id']}").status_code == 404
    assert PeriodicTask.objects.get().enabled


@pytest.mark.parametrize("field", ["input", "cron", "timezone", "enabled"])
def test_a_null_is_a_422_not_a_500(alice_client: Client, alice: User, field: str) -> None:
    team = make_supervisor_team(alice)
    url = f"/api/teams/{team.id}/schedules"
    schedule = post(alice_client, url, {"cron": "0 * * * *"}).json()

    created = post(alice_client, url, {"cron": "0 * * * *", field: None})
    changed = patch(alice_client, f"/api/schedules/{schedule['id']}", {field: None})

    assert (created.status_code, changed.status_code) == (422, 422)
    assert len(alice_client.get(url).json()) == 1


def test_a_team_has_at_most_fifty_schedules(alice_client: Client, alice: User) -> None:
    team = make_supervisor_team(alice)
    url = f"/api/teams/{team.id}/schedules"
    for _ in range(50):
        assert post(alice_client, url, {"cron": "* * * * *"}).status_code == 201

    response = post(alice_client, url, {"cron": "* * * * *"})

    assert response.status_code == 422
    assert "at most 50 schedules" in response.json()["detail"]
    assert PeriodicTask.objects.count() == 50
