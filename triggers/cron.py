"""Cron expressions as schedules take them: five fields, read the same by Celery beat (which
fires them) and by croniter (which names the tick a firing belongs to). Pure functions."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from celery.schedules import crontab
from croniter import croniter

FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


def fields(expression: str) -> dict[str, str]:
    """The expression's fields by Celery's names; ``ValueError`` saying what to fix for one
    that either reader would take differently or not at all."""
    parts = expression.split()
    if len(parts) != 5:
        raise ValueError(
            f"{expression!r} has {len(parts)} fields; give five: minute hour day-of-month "
            "month day-of-week, e.g. '0 9 * * 1-5'."
        )
    named = dict(zip(FIELDS, parts, strict=True))
    if named["day_of_month"] != "*" and named["day_of_week"] != "*":
        # cron runs when EITHER matches, Celery when BOTH do: refuse rather than guess.
        raise ValueError(
            "Restrict the day of the month or the day of the week, not both (cron and "
            "Celery read that combination differently); use two schedules."
        )
    try:
        crontab(**named)
        ok = croniter.is_valid(expression)
    except (ValueError, TypeError, KeyError):
        ok = False
    if not ok:
        raise ValueError(
            f"{expression!r} is not a cron expression this scheduler reads: use numbers, "
            "ranges (1-5), lists (1,15), steps (*/10) and * in five fields."
        )
    return named


@cache
def zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    """The IANA time zone; ``ValueError`` for a name that is not one."""
    if name not in zone_names():
        raise ValueError(f"{name!r} is not an IANA time zone name, e.g. 'Europe/Paris' or 'UTC'.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone name.") from None


def last_tick(expression: str, zone_name: str, now: datetime) -> datetime:
    """The latest tick at or before ``now`` (aware), as an aware datetime in UTC terms."""
    local = now.astimezone(zone(zone_name))
    tick: datetime = croniter(expression, local).get_prev(datetime)
    if croniter.match(expression, local.replace(second=0, microsecond=0)):
        tick = local.replace(second=0, microsecond=0)
    return tick


def next_tick(expression: str, zone_name: str, now: datetime) -> datetime:
    local = now.astimezone(zone(zone_name))
    tick: datetime = croniter(expression, local).get_next(datetime)
    return tick
