"""The team's "Schedules and triggers" page: an editor creates, switches and deletes schedules
and creates triggers whose secret is shown once; bad input is answered in place with nothing
saved; a viewer sees everything but the controls; nobody reaches another team's schedules."""

from __future__ import annotations

import pytest
from django.test import Client
from django_celery_beat.models import PeriodicTask

from teams import credentials
from tests.factories import make_supervisor_team, make_user
from tests.workspaces.helpers import client_of, shared_workspace
from triggers.models import Schedule, Trigger

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk():
    workspace, users = shared_workspace(editor="ed", viewer="vic")
    team = make_supervisor_team(users["olivia"])
    team.workspace = workspace
    team.save()
    return team, users


def url(team) -> str:
    return f"/teams/{team.id}/automation/"


def test_an_editor_creates_a_schedule_and_sees_its_next_firings(desk) -> None:
    team, users = desk
    editor = client_of(users["ed"])
    form = {"name": "Mornings", "cron": "0 9 * * 1-5", "timezone": "Europe/Paris",
            "input": '{"question": "Anything new?"}', "enabled": "on"}  # fmt: skip

    response = editor.post(url(team), form, follow=True)

    assert response.status_code == 200
    schedule = Schedule.objects.get(team=team)
    assert (schedule.cron, schedule.timezone, schedule.input, schedule.enabled) == (
        "0 9 * * 1-5", "Europe/Paris", {"question": "Anything new?"}, True,
    )  # fmt: skip
    assert PeriodicTask.objects.get(id=schedule.periodic_task_id).enabled
    page = response.content.decode()
    assert "Schedule “Mornings” created." in page
    # Three firings ahead, on weekdays at 09:00 Paris time.
    assert page.count(", 09:00</time>") == 3
    assert "Sat " not in page and "Sun " not in page


def test_a_bad_cron_or_input_is_answered_in_place_and_nothing_is_saved(desk) -> None:
    team, users = desk
    editor = client_of(users["ed"])

    bad_cron = editor.post(url(team), {"cron": "every monday", "timezone": "UTC", "input": "{}"})
    bad_json = editor.post(url(team), {"cron": "0 9 * * 1", "timezone": "UTC", "input": "{oops"})
    null = editor.post(url(team), {"cron": "0 9 * * 1", "timezone": "UTC", "input": "null"})
    bad_zone = editor.post(url(team), {"cron": "0 9 * * 1", "timezone": "Mars/Olympus"})

    assert bad_cron.status_code == bad_json.status_code == null.status_code == 422
    assert "has 2 fields; give five" in bad_cron.content.decode()
    assert "This is not JSON" in bad_json.content.decode()
    assert "{oops" in bad_json.content.decode()  # what was typed is kept
    assert "not null" in null.content.decode()
    assert bad_zone.status_code == 422 and "Mars/Olympus" in bad_zone.content.decode()
    assert not Schedule.objects.filter(team=team).exists()


def test_switching_off_and_deleting_a_schedule(desk) -> None:
    team, users = desk
    editor = client_of(users["ed"])
    editor.post(
        url(team), {"cron": "*/5 * * * *", "timezone": "UTC", "input": "{}", "enabled": "on"}
    )
    schedule = Schedule.objects.get(team=team)

    editor.post(f"/schedules/{schedule.id}/switch/", {})  # no "enabled": off

    schedule.refresh_from_db()
    assert not schedule.enabled
    assert not PeriodicTask.objects.get(id=schedule.periodic_task_id).enabled
    assert "none while off" in editor.get(url(team)).content.decode()

    editor.post(f"/schedules/{schedule.id}/delete/", {})
    assert not Schedule.objects.filter(id=schedule.id).exists()
    assert not PeriodicTask.objects.filter(id=schedule.periodic_task_id).exists()


def test_the_preview_computes_the_next_firings_or_says_what_is_wrong(desk) -> None:
    team, users = desk
    viewer = client_of(users["vic"])
    preview = f"/teams/{team.id}/automation/preview/"

    good = viewer.get(preview, {"cron": "30 6 1 * *", "timezone": "Asia/Tokyo"}).json()
    bad = viewer.get(preview, {"cron": "61 * * * *", "timezone": "UTC"}).json()
    zone = viewer.get(preview, {"cron": "0 9 * * *", "timezone": "Nowhere"}).json()

    assert len(good["firings"]) == 3
    assert all(
        f.endswith("+09:00") and "T06:30:00" in f and f[8:10] == "01" for f in good["firings"]
    )
    assert "not a cron expression" in bad["error"]
    assert "IANA time zone" in zone["error"]


def test_a_new_trigger_shows_its_url_and_secret_once(desk) -> None:
    team, users = desk
    editor = client_of(users["ed"])

    created = editor.post(f"/teams/{team.id}/triggers/new/",
                          {"name": "CRM", "scheme": "orchestrator", "input_pointer": "/ticket"})  # fmt: skip

    assert created.status_code == 200
    trigger = Trigger.objects.get(team=team)
    secret = credentials.decrypt(trigger.secret_encrypted)
    page = created.content.decode()
    assert secret in page and f"/api/hooks/{trigger.token}" in page
    assert "X-Orchestrator-Signature: sha256=$sig" in page  # the curl example
    # Never again: the list shows the URL, not the secret.
    later = editor.get(url(team)).content.decode()
    assert f"/api/hooks/{trigger.token}" in later and secret not in later

    editor.post(f"/triggers/{trigger.id}/delete/", {})
    assert not Trigger.objects.filter(id=trigger.id).exists()


def test_a_bad_pointer_makes_no_trigger(desk) -> None:
    team, users = desk
    response = client_of(users["ed"]).post(
        f"/teams/{team.id}/triggers/new/", {"scheme": "orchestrator", "input_pointer": "ticket"}
    )
    assert response.status_code == 422 and "is not a JSON pointer" in response.content.decode()
    assert not Trigger.objects.filter(team=team).exists()


def test_a_viewer_sees_schedules_and_triggers_but_no_controls(desk) -> None:
    team, users = desk
    editor, viewer = client_of(users["ed"]), client_of(users["vic"])
    editor.post(url(team), {"cron": "0 9 * * 1", "timezone": "UTC", "input": "{}", "enabled": "on"})
    editor.post(f"/teams/{team.id}/triggers/new/", {"scheme": "github"})

    page = viewer.get(url(team)).content.decode()

    assert "<code>0 9 * * 1</code>" in page and "/api/hooks/" in page
    for control in ("Create schedule", "Create trigger", "Switch off", ">Delete<"):
        assert control not in page
    assert "needs the" in page  # the sentence naming the role it takes
    # And the controls' URLs refuse them, with nothing changed.
    schedule = Schedule.objects.get(team=team)
    assert viewer.post(f"/schedules/{schedule.id}/delete/", {}).status_code == 403
    assert viewer.post(url(team), {"cron": "0 9 * * 2", "timezone": "UTC"}).status_code == 403
    assert Schedule.objects.filter(team=team).count() == 1


def test_another_workspaces_schedules_and_triggers_are_not_found(desk) -> None:
    team, users = desk
    editor = client_of(users["ed"])
    editor.post(url(team), {"cron": "0 9 * * 1", "timezone": "UTC", "input": "{}", "enabled": "on"})
    editor.post(f"/teams/{team.id}/triggers/new/", {"scheme": "orchestrator"})
    schedule, trigger = Schedule.objects.get(team=team), Trigger.objects.get(team=team)
    mallory: Client = client_of(make_user("mallory"))

    # Mallory, in no shared workspace, tries every control on their ids.
    assert mallory.get(url(team)).status_code == 404
    assert mallory.post(f"/schedules/{schedule.id}/switch/", {}).status_code == 404
    assert mallory.post(f"/schedules/{schedule.id}/delete/", {}).status_code == 404
    assert mallory.post(f"/triggers/{trigger.id}/delete/", {}).status_code == 404
    assert mallory.post(f"/teams/{team.id}/triggers/new/", {"scheme": "github"}).status_code == 404
    schedule.refresh_from_db()
    assert schedule.enabled and Trigger.objects.filter(id=trigger.id).exists()


def test_a_team_at_its_limit_gets_no_more_schedules_or_triggers_on_the_page_or_the_api(
    desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    team, users = desk
    editor = client_of(users["ed"])
    monkeypatch.setattr("triggers.actions.MAX_PER_TEAM", 1)
    schedule = {"cron": "0 9 * * 1", "timezone": "UTC", "input": "{}"}
    trigger = {"scheme": "orchestrator", "input_pointer": ""}
    assert editor.post(url(team), schedule).status_code == 302
    assert editor.post(f"/teams/{team.id}/triggers/new/", trigger).status_code == 200

    answers = [
        editor.post(url(team), schedule),
        editor.post(f"/teams/{team.id}/triggers/new/", trigger),
        editor.post(f"/api/teams/{team.id}/schedules", {"cron": "0 9 * * 1"},
                    content_type="application/json"),
        editor.post(f"/api/teams/{team.id}/triggers", {}, content_type="application/json"),
    ]  # fmt: skip

    for answer, what in zip(answers, ["schedules", "triggers"] * 2, strict=True):
        assert answer.status_code == 422, answer.content
        assert f"A team has at most 1 {what}; delete one first." in answer.content.decode()
    assert (Schedule.objects.filter(team=team).count(), team.triggers.count()) == (1, 1)
