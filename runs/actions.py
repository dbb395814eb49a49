"""Every change to a run's state from outside its executor (``do_*``-style functions, as in
Zulip's ``actions``): start a run, append events, cancel, answer, replay and fork, and queue
again a run a sweep found orphaned or due (``runs.wakes``).

The API, the pages, the management commands, triggers and tasks call these and change no run
themselves. Callers find the objects (and check who may touch them); these take the objects,
refuse what the run's state does not allow (``Conflict``, ``Invalid``), write, and tell
watchers once the transaction commits.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from jsonschema.exceptions import best_match

from teams.models import Team, TeamVersion
from teams.validation import error
from workspaces import access

from . import heads, metrics, quotas
from .broadcast import broadcast_events, broadcast_run
from .chain import ChainHead, chain
from .engine.events import RUN_CANCELLED, TERMINAL_TYPES, Event
from .engine.interfaces import human_answered
from .engine.json_schema import errors as schema_errors
from .execution import enqueue
from .models import Run, RunEvent
from .serializers import pending_request
from .shell.store import store_events
from .wiring import resolve_spec


class Conflict(Exception):
    """The run's state does not allow the change now (the API answers 409)."""


class Invalid(ValueError):
    """What was sent cannot be used (the API answers 422)."""


def input_problems(spec: dict[str, Any], task_input: Any) -> list[dict[str, Any]]:
    """Every way the input misses the team's ``input_schema``, as located problems."""
    schema = spec.get("input_schema")
    if not schema:
        return []
    return [
        error(
            "invalid_input",
            f"The input does not fit the team's input schema: {problem.message}.",
            path=".".join(["input", *map(str, problem.absolute_path)]),
        ).model_dump()
        for problem in schema_errors(schema, task_input)
    ]


def new_run(owner: Any, version: TeamVersion, task_input: Any, **fields: Any) -> Run:
    """A queued run of ``version``, if the owner's quotas allow one more (``QuotaExceeded``
    otherwise): checked and created in one transaction. Not dispatched: see ``start_run``."""
    return admitted_run(owner, version.team, version.spec, task_input, team_version=version,
                        **fields)  # fmt: skip


def new_runs(
    owner: Any, version: TeamVersion, inputs: Sequence[Any], savepoint: bool = True, **fields: Any
) -> list[Run]:
    """``new_run`` for each of ``inputs``, in one admission and one INSERT (an experiment's
    round of items): all of them if the owner's quotas allow as many more, else none
    (``QuotaExceeded``). ``savepoint=False``: inside a transaction that any error fails
    whole (an experiment's step), take no savepoint, two round trips fewer."""
    team = version.team
    may_start(owner, team)
    spec = quotas.budgeted(resolve_spec(version.spec, team.workspace))
    fields = {"team_name": team.name, "team_version": version, **fields}
    with transaction.atomic(savepoint=savepoint):
        quotas.admit_run(owner, len(inputs))
        return Run.objects.bulk_create(_queued(owner, team, spec, i, fields) for i in inputs)


def _queued(owner: Any, team: Team, spec: dict[str, Any], task_input: Any, fields: Any) -> Run:
    """A queued run's row, not saved yet."""
    return Run(
        owner=owner,
        workspace_id=team.workspace_id,
        team=team,
        spec=spec,
        input=task_input,
        seed=random.getrandbits(62),
        **Run.attributed(owner, fields),
    )


def may_start(owner: Any, team: Team) -> None:
    """``access.NotFound``/``Forbidden`` unless ``owner`` may start runs of ``team`` now: an
    account the operator switched off starts nothing, whatever starts the run for it."""
    if not getattr(owner, "is_active", True):
        raise access.Forbidden(f"The account {owner} is switched off; it starts no runs.")
    access.check(owner, team.workspace, "run.start")


def admitted_run(
    owner: Any, team: Team, document: dict[str, Any], task_input: Any, **fields: Any
) -> Run:
    """A queued run of the team ``document`` (a version's, or a draft's for a node test) in
    the team's workspace, with the operator's budgets. ``owner`` must hold ``run.start``
    there (``access.NotFound``/``Forbidden`` otherwise: a schedule or trigger of a team whose
    maker has left stops starting runs), and their quotas must allow one more
    (``QuotaExceeded``): checked and created in one transaction. An account the operator
    switched off starts nothing (``Forbidden``), whatever started the run for it."""
    may_start(owner, team)
    # Nested teams resolve in the team's own workspace; a team that fails costs no start.
    spec = quotas.budgeted(resolve_spec(document, team.workspace))
    fields.setdefault("team_name", team.name)
    with transaction.atomic():
        quotas.admit_run(owner)
        run = _queued(owner, team, spec, task_input, fields)
        run.save(force_insert=True)
        return run


def start_run(owner: Any, version: TeamVersion, task_input: Any, **fields: Any) -> Run:
    """``new_run``, dispatched to the workers once the transaction commits."""
    with transaction.atomic():
        run = new_run(owner, version, task_input, **fields)
        enqueue(run)
    return run


def append(run: Run, events: Sequence[Event]) -> list[RunEvent]:
    """Append events to a run nobody is executing (a person's answer, a cancel, a fork).

    Must run inside a transaction that holds the run's row lock, so it cannot interleave
    with an executor claiming the run. Signs the run's new head (``runs.heads``): nobody
    executes the run to sign it when it stops.
    """
    known = set(
        RunEvent.objects.filter(run=run, key__in=[e.key for e in events]).values_list(
            "key", flat=True
        )
    )
    head = ChainHead.of(run.id)
    rows = chain(run.id, head, [e for e in events if e.key not in known])
    if not rows:
        return rows
    store_events(run.id, rows)
    run.audit_head = heads.sign(run.id, head.seq, head.hash)
    Run.objects.filter(id=run.id).update(audit_head=run.audit_head)
    transaction.on_commit(lambda: broadcast_events(run.id, rows))
    transaction.on_commit(lambda: metrics.observe_events(run, rows))
    return rows


def request_cancel(run: Run) -> None:
    """Ask whoever executes ``run`` to cancel it (it sees the flag within a second): for a
    run this process executes, as ``manage.py runteam`` does on Ctrl-C."""
    Run.objects.filter(id=run.id).update(cancel_requested=True)


def shell_event(type_: str, payload: dict[str, Any]) -> Event:
    """An event recorded on a run nobody is executing."""
    return Event(type=type_, key=f"shell:{type_}", ts=timezone.now().timestamp(), payload=payload)


def cancel_run(run: Run, by: Any = None, reason: str = "") -> None:
    """Cancel ``run`` (locked by the caller, inside its transaction). A running run is asked
    to stop (its executor sees the flag within a second and cancels the calls in flight);
    any other unfinished run ends cancelled here, with ``reason`` (by default, who did)."""
    if run.is_finished:
        raise Conflict(f"The run has already ended ({run.get_status_display()}).")
    if run.status == Run.Status.RUNNING:
        run.cancel_requested = True
        run.save(update_fields=["cancel_requested"])
    else:
        reason = reason or f"Cancelled by {by.get_username()}."
        append(run, [shell_event(RUN_CANCELLED, {"reason": reason})])
        run.status = Run.Status.CANCELLED
        run.cancel_requested = True
        run.failure_reason = reason
        run.waiting_for = ""
        run.wake_at = None
        run.finished_at = timezone.now()
        run.save()
    broadcast_on_commit(run)


def answer_run(run: Run, answer: Any, by: Any) -> None:
    """Record ``by``'s answer to the question ``run`` (locked by the caller) waits on, and
    queue the run to resume."""
    requested = pending_request(run) if run.status == Run.Status.WAITING else None
    if requested is None:
        raise Conflict("The run is not waiting for an answer.")
    check_answer(requested.payload.get("answer_schema"), answer)
    try:
        quotas.check_budget_approval(run, requested.payload, answer)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    event = human_answered(requested.to_event(), answer, by.get_username(), time_now())
    append(run, [event])
    run.status = Run.Status.QUEUED
    run.waiting_for = ""
    run.wake_at = None  # the answer came first: nothing is woken
    run.save(update_fields=["status", "waiting_for", "wake_at"])
    enqueue(run)
    broadcast_on_commit(run)


def queue_again(run_id: Any, seen: dict[str, Any], redispatch_at: datetime) -> bool:
    """Queue the run, held by nobody, if its row still holds what a sweep ``seen`` (a stale
    heartbeat, a question's deadline): one conditional update, so of two sweeps, or a sweep
    and a person answering, only one moves it. ``wake_at`` becomes ``redispatch_at``: when to
    dispatch it again if no executor has claimed it by then. The caller dispatches it."""
    queued = Run.objects.filter(id=run_id, **seen).update(
        status=Run.Status.QUEUED,
        waiting_for="",
        claimed_by="",
        heartbeat_at=None,
        wake_at=redispatch_at,
    )
    return bool(queued)


def time_now() -> float:
    return timezone.now().timestamp()


def check_answer(schema: dict[str, Any] | None, answer: Any) -> None:
    if not schema:
        return
    found = best_match(schema_errors(schema, answer))
    if found is not None:
        raise Invalid(f"The answer does not fit what was asked: {found.message}.")


def replay_run(owner: Any, source: Run) -> Run:
    """A new run of the ended ``source``, taking every recorded result instead of calling."""
    if not source.is_finished:
        raise Conflict("Only a run that has ended can be replayed.")
    return fork_run(owner, source, None, source.input, last_seq(source))


def fork_run(
    owner: Any, source: Run, version: TeamVersion | None, task_input: Any, upto: int
) -> Run:
    """A new run that starts from the source's recorded events up to ``upto``: of the same
    spec and seed when ``version`` is None, else of ``version``."""
    with transaction.atomic():
        copied = [
            row.to_event()
            for row in RunEvent.objects.filter(run=source, seq__lte=upto).order_by("seq")
            if row.type not in TERMINAL_TYPES
        ]
        fields = {"source_run": source, "forked_at_seq": upto}
        if version is None:
            quotas.admit_run(owner)
            run = Run.objects.create(
                owner=owner,
                workspace_id=source.workspace_id,
                team=source.team,
                team_version=source.team_version,
                team_name=source.team_name,
                spec=quotas.budgeted(source.spec),
                input=task_input,
                seed=source.seed,
                **Run.attributed(owner, fields),
            )
        else:
            run = new_run(owner, version, task_input, **fields)
        append(run, copied)
        enqueue(run)
    return run


def last_seq(run: Run) -> int:
    """The run's last event's seq (annotated by the lookup that found it, or counted)."""
    found = getattr(run, "last_seq", None)
    if found is None:
        found = RunEvent.objects.filter(run=run).order_by("-seq").values_list("seq", flat=True)
        found = next(iter(found[:1]), 0)
    return found or 0


def broadcast_on_commit(run: Run) -> None:
    """Tell the run's watchers its new summary once the transaction commits."""
    run_id = run.id
    transaction.on_commit(lambda: broadcast_run(summary_of(run_id)))


def summary_of(run_id: Any) -> Run:
    return Run.objects.select_related("team_version").prefetch_related("artifacts").get(id=run_id)
