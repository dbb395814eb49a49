"""What one person may start: runs in flight, runs per hour, tokens and dollars per day, and the
budget every run carries.

``admit_run(owner)`` is called where a run is created, inside the transaction that creates it;
it raises ``QuotaExceeded`` (a 429 with Retry-After) and nothing is created. ``budgeted(spec)``
gives the run's spec the operator's default budget where the team set none, and holds every
budget under the operator's maximum, so no run can spend without bound.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import F, Sum
from django.utils import timezone
from pydantic import ValidationError

from orchestration_site import quotas
from orchestration_site.quotas import QuotaExceeded

from .engine.budgets import BudgetAnswer
from .engine.events import HUMAN_ANSWERED, HUMAN_REQUESTED
from .models import Run, RunEvent

# A run in flight usually ends or waits within a minute or two; asking again sooner is noise.
IN_FLIGHT_RETRY_AFTER_S = 30
SPEND_WINDOW = timedelta(days=1)
# Only deleting a webhook frees a place; the header is there for clients that expect it.
WEBHOOK_CAP_RETRY_AFTER_S = 3600
IN_FLIGHT = (Run.Status.QUEUED, Run.Status.RUNNING)


def admit_run(owner: User, count: int = 1) -> None:
    """Raises ``QuotaExceeded`` unless ``owner`` may start ``count`` more runs now (all of
    them, or none). Call it inside the transaction that creates the runs: it locks the
    owner's row so two requests at once cannot both take the last place."""
    User.objects.select_for_update().filter(pk=owner.pk).first()
    left = runs_in_flight_left(owner)
    if left is not None and count > left:
        cap = settings.QUOTA_RUNS_IN_FLIGHT
        have = (
            f"You have {cap} runs queued or running, the most allowed at once."
            if not left
            else f"{count} more runs would pass the {cap} allowed queued or running at once."
        )
        raise QuotaExceeded(
            f"{have} Wait for one to end (or cancel one) and start again.", IN_FLIGHT_RETRY_AFTER_S
        )
    _check_daily_spend(owner)
    quotas.hit(quotas.RUN_STARTS, owner.pk, cost=count)


def runs_in_flight_left(owner: User) -> int | None:
    """How many more runs ``owner`` may have queued or running now; None without a cap."""
    cap = settings.QUOTA_RUNS_IN_FLIGHT
    if not cap:
        return None
    return max(cap - Run.objects.filter(owner=owner, status__in=IN_FLIGHT).count(), 0)


def admit_webhook(team: Any) -> None:
    """Raises ``QuotaExceeded`` when ``team`` has as many webhooks as allowed (each run's end
    is one delivery per webhook). Call it inside the transaction that adds one."""
    type(team).objects.select_for_update().filter(pk=team.pk).first()
    cap = settings.QUOTA_WEBHOOKS_PER_TEAM
    if cap and team.webhooks.count() >= cap:
        raise QuotaExceeded(
            f"This team has {cap} webhooks, the most allowed. Delete one before adding another.",
            WEBHOOK_CAP_RETRY_AFTER_S,
        )


def _check_daily_spend(owner: User) -> None:
    token_cap, usd_cap = settings.QUOTA_TOKENS_PER_DAY, settings.QUOTA_USD_PER_DAY
    if not token_cap and not usd_cap:  # no cap: nothing to add up
        return
    since = timezone.now() - SPEND_WINDOW
    recent = Run.objects.filter(owner=owner, created_at__gte=since)
    used = recent.aggregate(tokens=Sum(F("input_tokens") + F("output_tokens")), usd=Sum("cost_usd"))
    tokens, usd = used["tokens"] or 0, float(used["usd"] or 0)
    if token_cap and tokens >= token_cap:
        spent = f"{tokens:,} tokens of your {token_cap:,} per day"
    elif usd_cap and usd >= usd_cap:
        spent = f"${usd:.2f} of your ${usd_cap:.2f} per day"
    else:
        return
    oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
    frees_at = (oldest or timezone.now()) + SPEND_WINDOW
    raise QuotaExceeded(
        f"Your runs of the last 24 hours used {spent}. Start again once older runs leave the "
        "window (see Retry-After), or ask the operator for a larger quota.",
        (frees_at - timezone.now()).total_seconds(),
    )


def budgeted(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with run budgets the operator allows: the default where the team set none, the
    maximum where it asked for more."""
    limits = dict(spec.get("limits") or {})
    for field, default, maximum in (
        ("token_budget", settings.RUN_DEFAULT_TOKEN_BUDGET, settings.RUN_MAX_TOKEN_BUDGET),
        ("cost_budget_usd", settings.RUN_DEFAULT_COST_BUDGET_USD, settings.RUN_MAX_COST_BUDGET_USD),
    ):
        asked = limits.get(field)
        limits[field] = min(asked if asked is not None else default, maximum)
    return {**spec, "limits": limits}


def check_budget_approval(run: Run, request: dict[str, Any], answer: Any) -> None:
    """Raises ``ValueError`` saying why when ``answer`` to the budget question ``request``
    would raise the run's budget past the operator's maximum, counting what earlier answers
    approved. Approvals that only raise an agent's budget stay under the run's own."""
    raised = _approved_extra(answer) if _about_the_run(request) else None
    if raised is None:
        return
    tokens, usd = raised
    for earlier in _earlier_run_approvals(run):
        tokens, usd = tokens + earlier[0], usd + earlier[1]
    limits = run.spec.get("limits") or {}
    tokens += limits.get("token_budget") or 0
    usd += limits.get("cost_budget_usd") or 0
    if tokens > settings.RUN_MAX_TOKEN_BUDGET:
        raise ValueError(
            f"That would raise the run's token budget to {tokens:,}; the operator allows at "
            f"most {settings.RUN_MAX_TOKEN_BUDGET:,} per run. Approve less, or stop the run."
        )
    if usd > settings.RUN_MAX_COST_BUDGET_USD:
        raise ValueError(
            f"That would raise the run's budget to ${usd:.2f}; the operator allows at most "
            f"${settings.RUN_MAX_COST_BUDGET_USD:.2f} per run. Approve less, or stop the run."
        )


def _about_the_run(request: dict[str, Any]) -> bool:
    return request.get("kind") == "budget" and "run" in (request.get("scopes") or [])


def _approved_extra(answer: Any) -> tuple[int, float] | None:
    try:
        parsed = BudgetAnswer.model_validate(answer)
    except ValidationError:
        return None  # the engine fails the run on an answer it cannot read
    return (parsed.extra_tokens, parsed.extra_usd) if parsed.approve else None


def _earlier_run_approvals(run: Run) -> list[tuple[int, float]]:
    events = RunEvent.objects.filter(run=run, type__in=(HUMAN_REQUESTED, HUMAN_ANSWERED))
    about_run: set[str] = set()
    approved = []
    for event in events.order_by("seq"):
        key = event.payload.get("activity_key") or ""
        if event.type == HUMAN_REQUESTED and _about_the_run(event.payload):
            about_run.add(key)
        elif key in about_run and (extra := _approved_extra(event.payload.get("answer"))):
            approved.append(extra)
    return approved
