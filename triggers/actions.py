"""Every change to schedules and triggers, and every run they start (``do_*`` functions: the
API, the Celery task and the embedded loop call these and change nothing themselves)."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from runs.actions import input_problems, start_run
from runs.models import Run
from teams import credentials
from teams.models import Team
from teams.services import unresolved_problem
from teams.validation import UnresolvedTeam
from workspaces import access

from . import cron, signing
from .models import Schedule, ScheduleFiring, Trigger, TriggerCall

log = logging.getLogger(__name__)

FIRE_TASK = "triggers.tasks.fire_schedule"
#: Schedules, and triggers, one team may have: each schedule is read at every sweep.
MAX_PER_TEAM = 50
#: Schedules the teams of one person (whose runs they start) may have in all. Each fires as
#: often as every minute, whether or not the person's quotas let its run start (a refused
#: firing is a task, a row and a log line too), and teams cost nothing to make: fifty
#: schedules a team on team after team was a firing a minute per schedule, without end.
MAX_SCHEDULES_PER_OWNER = 100


def team_full(team: Team, what: str) -> str | None:
    """Why ``team`` may have no more ``what`` ("schedules" or "triggers"), or None."""
    if getattr(team, what).count() >= MAX_PER_TEAM:
        return f"A team has at most {MAX_PER_TEAM} {what}; delete one first."
    if what == "schedules" and (
        Schedule.objects.filter(team__owner_id=team.owner_id).count() >= MAX_SCHEDULES_PER_OWNER
    ):
        return (
            f"The teams of {team.owner} have {MAX_SCHEDULES_PER_OWNER} schedules, the most "
            "allowed for one person's runs; delete one first."
        )
    return None


@dataclass
class RunRefused(Exception):
    """The team cannot run this input now; ``detail`` and ``problems`` say why (a 422)."""

    detail: str
    problems: list[dict[str, Any]] = field(default_factory=list)


# Starting runs -------------------------------------------------------------------------------


def do_start_run(
    team: Team, version_number: int | None, task_input: Any, started_by: str, owner: Any = None
) -> Run:
    """Start a run of ``team`` for ``owner`` (its owner by default) as ``POST
    /api/teams/{id}/runs`` does (through ``runs.actions.start_run``), noting what started it.
    Call inside a transaction: the run is dispatched when it commits."""
    owner = owner or team.owner
    version = team.versions.filter(number=version_number or team.version).first()
    if version is None:
        raise RunRefused(f"Team {team.name!r} has no version {version_number}.")
    if not version.is_valid:
        raise RunRefused(
            f"Version {version.number} of this team has problems; fix them in the builder.",
            version.problems,
        )
    if problems := input_problems(version.spec, task_input):
        raise RunRefused("The input does not fit the team's input schema.", problems)
    try:
        return start_run(owner, version, task_input, started_by=started_by)
    except UnresolvedTeam as exc:
        raise RunRefused(str(exc), [unresolved_problem(exc).model_dump()]) from None
    except (access.NotFound, access.Forbidden):
        raise RunRefused(
            f"{owner}, who set this up, may no longer start the team's runs in workspace "
            f"{team.workspace}; ask an admin to set it up again."
        ) from None


# Schedules -----------------------------------------------------------------------------------


def do_save_schedule(schedule: Schedule, *, rearm: bool) -> Schedule:
    """Save the schedule and its beat entry together. ``rearm`` (a new schedule, or a changed
    cron, zone or switch) means no tick before now fires for it."""
    with transaction.atomic():
        if rearm or schedule.armed_at is None:
            schedule.armed_at = timezone.now()
        schedule.save()
        sync_periodic_task(schedule, rearm=rearm)
    return schedule


def sync_periodic_task(schedule: Schedule, *, rearm: bool) -> None:
    """Keep the schedule's ``PeriodicTask`` and ``CrontabSchedule`` as the schedule says:
    django-celery-beat's beat reads them from the database and notices the change."""
    crontab, _ = CrontabSchedule.objects.get_or_create(
        **cron.fields(schedule.cron), timezone=schedule.timezone
    )
    task = schedule.periodic_task or PeriodicTask(name=f"triggers.schedule.{schedule.id}")
    task.task = FIRE_TASK
    task.crontab = crontab
    task.args = json.dumps([schedule.id])
    task.enabled = schedule.enabled
    if rearm:
        task.last_run_at = None  # beat counts from now, not from a tick missed before
    task.save()
    if schedule.periodic_task_id != task.id:
        Schedule.objects.filter(id=schedule.id).update(periodic_task=task)
        schedule.periodic_task = task


def do_delete_schedule(schedule: Schedule) -> None:
    with transaction.atomic():
        if schedule.periodic_task_id:
            PeriodicTask.objects.filter(id=schedule.periodic_task_id).delete()
        schedule.delete()


def do_fire(schedule_id: int, now: datetime | None = None) -> ScheduleFiring | None:
    """Start the run of the schedule's latest tick at or before ``now``, once: the tick is
    claimed by inserting its unique firing row before the run is created, so every other
    firing of it (a second beat, a restart) finds the row and starts nothing. A tick from
    before the schedule was (re)armed does not fire. Returns the firing this call made."""
    now = now or timezone.now()
    schedule = Schedule.objects.select_related("team__owner").filter(id=schedule_id).first()
    if schedule is None or not schedule.enabled:
        return None
    tick = cron.last_tick(schedule.cron, schedule.timezone, now)
    if tick < schedule.armed_at.replace(second=0, microsecond=0):
        return None
    with transaction.atomic():
        firing, claimed = claim(schedule, tick)
        if not claimed:
            ScheduleFiring.objects.filter(id=firing.id).update(duplicates=F("duplicates") + 1)
            return None
        Schedule.objects.filter(id=schedule.id).update(last_tick=tick)
        try:
            with transaction.atomic():
                firing.run = do_start_run(
                    schedule.team, schedule.version, schedule.input, schedule.started_by
                )
        except RunRefused as exc:
            # Recorded on the firing (the API lists it), and not tried again for this tick.
            firing.error = exc.detail
            log.warning("Schedule %s did not start a run at %s: %s", schedule.id, tick, exc.detail)
        firing.save(update_fields=["run", "error"])
    return firing


def claim(schedule: Schedule, tick: datetime) -> tuple[ScheduleFiring, bool]:
    """The conditional insert: (the firing, True) for the one caller that inserted it. A
    concurrent inserter waits on the unique index and then finds the row."""
    try:
        with transaction.atomic():
            return ScheduleFiring.objects.create(schedule=schedule, tick=tick), True
    except IntegrityError:
        return ScheduleFiring.objects.get(schedule=schedule, tick=tick), False


def due_schedule_ids(now: datetime) -> list[int]:
    """Enabled schedules whose latest tick has not been claimed (for the embedded loop)."""
    due = []
    for schedule in Schedule.objects.filter(enabled=True).only(
        "id", "cron", "timezone", "armed_at", "last_tick"
    ):
        tick = cron.last_tick(schedule.cron, schedule.timezone, now)
        armed = schedule.armed_at.replace(second=0, microsecond=0)
        if tick >= armed and (schedule.last_tick is None or tick > schedule.last_tick):
            due.append(schedule.id)
    return due


def fire_due(now: datetime | None = None) -> int:
    """Fire every due schedule once (the embedded default's stand-in for beat); how many
    started a run."""
    now = now or timezone.now()
    fired = [do_fire(schedule_id, now) for schedule_id in due_schedule_ids(now)]
    return sum(1 for firing in fired if firing is not None and firing.run_id)


# Triggers ------------------------------------------------------------------------------------


def do_create_trigger(team: Team, **fields: Any) -> tuple[Trigger, str]:
    """A new trigger of ``team`` (``name``, ``scheme``, ``input_pointer``, ``version``) and its
    signing secret, which is stored encrypted and returned only here."""
    secret = signing.new_secret()
    trigger = Trigger.objects.create(
        team=team, secret_encrypted=credentials.encrypt(secret), **fields
    )
    return trigger, secret


def do_delete_trigger(trigger: Trigger) -> None:
    trigger.delete()


def do_call_trigger(
    trigger: Trigger, task_input: Any, signature: str, idempotency_key: str | None
) -> tuple[Run, bool]:
    """The run this signed call starts, or the one an earlier call with the same
    idempotency key or the same signature started: (run, whether it is new)."""
    earlier = earlier_call(trigger, signature, idempotency_key)
    if earlier is not None:
        return earlier.run, False
    try:
        with transaction.atomic():
            run = do_start_run(trigger.team, trigger.version, task_input, trigger.started_by)
            TriggerCall.objects.create(
                trigger=trigger, idempotency_key=idempotency_key or "", signature=signature, run=run
            )
    except IntegrityError:
        # The same call arrived twice at once: the other one's run stands, this one's is gone.
        earlier = earlier_call(trigger, signature, idempotency_key)
        if earlier is None:
            raise
        return earlier.run, False
    Trigger.objects.filter(id=trigger.id).update(last_called_at=timezone.now())
    return run, True


def earlier_call(trigger: Trigger, signature: str, key: str | None) -> TriggerCall | None:
    calls = TriggerCall.objects.filter(trigger=trigger).select_related("run")
    if key:
        found = calls.filter(idempotency_key=key).first()
        if found is not None:
            return found
    return calls.filter(signature=signature).first()
