"""The team's "Schedules and triggers" page: what starts the team's runs with no one there.

Everyone who may read the team's schedules sees them (with their next firings, computed here)
and its triggers (their URLs, never their secrets); those who may change them also get the
forms. A new trigger's secret is shown once, in the answer to the form that made it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from teams.models import Team
from workspaces import operations
from workspaces.operations import page

from . import actions, cron
from .api import absolute
from .forms import ScheduleForm, TriggerForm
from .models import Schedule, Trigger

# Both forms have a "name": their fields' ids must differ, their names need not.
SCHEDULE_IDS, TRIGGER_IDS = "schedule_%s", "trigger_%s"
#: Firings listed ahead for each schedule and in the form's preview.
NEXT_FIRINGS = 3


def next_firings(expression: str, zone: str, count: int = NEXT_FIRINGS) -> list[datetime]:
    """The next ``count`` ticks of ``expression`` in ``zone``, from now."""
    ticks, now = [], timezone.now()
    for _ in range(count):
        now = cron.next_tick(expression, zone, now)
        ticks.append(now)
    return ticks


def _team(request: HttpRequest, team_id: int) -> Team:
    return operations.get(Team.objects.all(), request, pk=team_id)


def _on_team(model: type[Schedule] | type[Trigger], request: HttpRequest, pk: int) -> Any:
    return operations.get(
        model.objects.select_related("team"), request, pk=pk, path="team__workspace"
    )


def _page(request: HttpRequest, team: Team, **context: Any) -> HttpResponse:
    schedules = list(team.schedules.all())
    for schedule in schedules:
        schedule.upcoming = next_firings(schedule.cron, schedule.timezone)  # type: ignore[attr-defined]
        schedule.input_json = json.dumps(schedule.input, ensure_ascii=False)  # type: ignore[attr-defined]
    context.setdefault("schedule_form", ScheduleForm(auto_id=SCHEDULE_IDS))
    context.setdefault("trigger_form", TriggerForm(auto_id=TRIGGER_IDS))
    triggers = list(team.triggers.all())
    for trigger in triggers:
        trigger.url = hook_url(trigger)  # type: ignore[attr-defined]
    context |= {"team": team, "schedules": schedules, "triggers": triggers}
    status = 422 if context.get("refused") else 200
    return render(request, "triggers/team_automation.html", context, status=status)


def hook_url(trigger: Trigger) -> str:
    """Where callers POST: the trigger's URL, as the API gives it."""
    return absolute(reverse("api:trigger-call", args=[trigger.token]))


@page({"GET": "schedule.view", "POST": "schedule.edit"})
def team_automation(request: HttpRequest, team_id: int) -> HttpResponse:
    """The page; a POST creates a schedule."""
    team = _team(request, team_id)
    if request.method != "POST":
        return _page(request, team)
    form = ScheduleForm(request.POST, auto_id=SCHEDULE_IDS)
    if full := actions.team_full(team, "schedules"):
        form.add_error(None, full)
    if not form.is_valid():
        return _page(request, team, schedule_form=form, refused=True)
    schedule = Schedule(team=team, **form.cleaned_data)
    actions.do_save_schedule(schedule, rearm=True)
    messages.success(request, f"Schedule “{schedule.name or schedule.cron}” created.")
    return redirect("team-automation", team.pk)


@page("schedule.view")
def schedule_preview(request: HttpRequest, team_id: int) -> JsonResponse:
    """The next firings of the cron expression and time zone in the query, as the form is
    filled in: ``{"firings": [ISO times]}`` or ``{"error": sentence}``."""
    _team(request, team_id)
    expression = request.GET.get("cron", "")[:200].strip()
    zone = request.GET.get("timezone", "UTC")[:64]
    try:
        cron.fields(expression)
        cron.zone(zone)
        firings = next_firings(expression, zone)
    except ValueError as exc:
        return JsonResponse({"error": str(exc)})
    return JsonResponse({"firings": [f.isoformat() for f in firings]})


@page("schedule.edit")
@require_POST
def schedule_switch(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _on_team(Schedule, request, schedule_id)
    schedule.enabled = request.POST.get("enabled") == "on"
    actions.do_save_schedule(schedule, rearm=True)
    state = "on" if schedule.enabled else "off"
    messages.success(request, f"Schedule “{schedule.name or schedule.cron}” switched {state}.")
    return redirect("team-automation", schedule.team_id)


@page("schedule.edit")
@require_POST
def schedule_delete(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = _on_team(Schedule, request, schedule_id)
    team_id = schedule.team_id
    actions.do_delete_schedule(schedule)
    messages.success(request, f"Schedule “{schedule.name or schedule.cron}” deleted.")
    return redirect("team-automation", team_id)


@page("schedule.edit")
@require_POST
def trigger_create(request: HttpRequest, team_id: int) -> HttpResponse:
    """Makes a trigger and answers with the page showing its URL and secret, once."""
    team = _team(request, team_id)
    form = TriggerForm(request.POST, auto_id=TRIGGER_IDS)
    if full := actions.team_full(team, "triggers"):
        form.add_error(None, full)
    if not form.is_valid():
        return _page(request, team, trigger_form=form, refused=True)
    trigger, secret = actions.do_create_trigger(team, **form.cleaned_data)
    created = {"trigger": trigger, "secret": secret, "url": hook_url(trigger)}
    return _page(request, team, created=created)


@page("schedule.edit")
@require_POST
def trigger_delete(request: HttpRequest, trigger_id: int) -> HttpResponse:
    trigger = _on_team(Trigger, request, trigger_id)
    team_id = trigger.team_id
    actions.do_delete_trigger(trigger)
    messages.success(
        request,
        f"Trigger “{trigger.name or trigger.token[:8]}” deleted; its URL no longer starts runs.",
    )
    return redirect("team-automation", team_id)
