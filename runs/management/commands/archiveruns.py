"""``manage.py archiveruns``: archive finished runs older than the retention period."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from runs.archive import archive_old_runs, retention_periods


class Command(BaseCommand):
    help = (
        "Write every finished run that ended more than --older-than days ago (by default: "
        "more than its workspace's retention period, RUN_RETENTION_DAYS unless the workspace "
        "sets a shorter one) to a JSON Lines file under ARCHIVE_ROOT, with its signed head, "
        "then delete its events from the database in small batches. Archived runs stay "
        "listed, with a link to their archive. Safe to interrupt and run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", type=int, metavar="DAYS", default=None)
        parser.add_argument("--batch", type=int, metavar="N", default=settings.ARCHIVE_BATCH)
        parser.add_argument(
            "--dry-run", action="store_true", help="Say how many runs are due; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["older_than"]
        if (days is not None and days < 1) or options["batch"] < 1:
            raise CommandError("--older-than and --batch take a whole number of 1 or more.")
        if days is None and retention_periods() is None:
            raise CommandError(
                "RUN_RETENTION_DAYS is 0 and no workspace sets a retention period, so runs are "
                "kept forever: pass --older-than DAYS or set RUN_RETENTION_DAYS."
            )
        done = archive_old_runs(days, options["batch"], dry_run=options["dry_run"])
        period = (
            f"more than {days} days ago" if days else "longer ago than their workspace keeps them"
        )
        if options["dry_run"]:
            self.stdout.write(f"{done.due} runs ended {period}; none archived.")
            return
        self.stdout.write(
            f"Archived {len(done.archived)} of {done.due} runs under {settings.ARCHIVE_ROOT}; "
            f"deleted {done.events_deleted} events, the longest delete held its rows "
            f"{done.longest_delete_ms:.0f} ms."
        )
        for run_id, reason in done.skipped.items():
            self.stderr.write(f"Run {run_id} was not archived: {reason}.")
