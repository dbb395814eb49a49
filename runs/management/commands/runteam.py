"""``manage.py runteam TEAM --input ...``: run a team here, printing events as they arrive."""

import json
import shutil
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from orchestration_site.quotas import QuotaExceeded
from runs.actions import new_run, request_cancel
from runs.execution import execute_in_thread
from runs.models import Run, RunEvent
from runs.summaries import event_summary
from teams.models import Team
from teams.validation import UnresolvedTeam
from workspaces import access

POLL_S = 0.2


def plain(text: str) -> str:
    """A style for stderr lines that are not errors (Django draws stderr in red otherwise)."""
    return text


class Command(BaseCommand):
    help = (
        "Run a team from the terminal: its events are printed as they arrive, with a progress "
        "line; exits non-zero unless the run succeeds. The run executes in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("team", help="The team's id, or its name if no other team has it.")
        parser.add_argument(
            "--workspace", help="The slug of the team's workspace (to tell same-named teams apart)."
        )
        parser.add_argument(
            "--as",
            dest="starter",
            help="Start the run as this member of the team's workspace (default: the team's "
            "maker); they need the run.start permission.",
        )
        parser.add_argument("--input", default="", help="The run's input: JSON, or plain text.")
        parser.add_argument(
            "--team-version",
            type=int,
            dest="team_version",
            help="Team version to run (default: latest).",
        )

    def handle(
        self,
        *args: Any,
        team: str,
        input: str,
        team_version: int | None,
        workspace: str | None = None,
        starter: str | None = None,
        **options: Any,
    ) -> None:
        found = find_team(team, workspace)
        by = found.owner if starter is None else find_user(starter)
        chosen = found.versions.filter(number=team_version or found.version).first()
        if chosen is None:
            raise CommandError(f"Team {found.name!r} has no version {team_version}.")
        if not chosen.is_valid:
            problems = "; ".join(p.get("message", "") for p in chosen.problems)
            raise CommandError(
                f"Version {chosen.number} of {found.name!r} has problems: {problems}"
            )
        try:
            with transaction.atomic():
                run = new_run(by, chosen, parse_input(input))
        except (UnresolvedTeam, QuotaExceeded) as error:  # the starter's quotas hold here too
            raise CommandError(str(error)) from None
        except access.NotFound:
            raise CommandError(f"{by} is not a member of workspace {found.workspace}.") from None
        except access.Forbidden as refusal:
            raise CommandError(str(refusal)) from None
        page = settings.SITE_URL.rstrip("/") + reverse("run-detail", args=[run.id])
        self.stderr.write(f"Run {run.id} of {found.name!r} v{chosen.number}: {page}", plain)
        finished = self.follow(run)
        self.report(finished)

    def follow(self, run: Run) -> Run:
        """Execute the run on this process's run loop and print its events until it stops."""
        execution = execute_in_thread(str(run.id))
        started, printed = time.monotonic(), 0
        while True:
            try:
                done = execution.done()
                for event in RunEvent.objects.filter(run=run, seq__gt=printed).order_by("seq"):
                    self.clear_progress()
                    self.stdout.write(event_line(event))
                    printed = event.seq
                run.refresh_from_db()
                self.progress(run, printed, time.monotonic() - started)
                if done:
                    self.clear_progress()
                    return run
                time.sleep(POLL_S)
            except KeyboardInterrupt:
                self.stderr.write("\nCancelling the run…", self.style.WARNING)
                request_cancel(run)

    def report(self, run: Run) -> None:
        summary = f"{run.input_tokens + run.output_tokens} tokens, ${float(run.cost_usd):.4f}"
        if run.status == Run.Status.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(f"Succeeded ({summary})."))
            self.stdout.write(json.dumps(run.output, ensure_ascii=False, indent=2))
            return
        if run.status == Run.Status.WAITING:
            raise CommandError(
                f"The run waits for a person ({run.waiting_for}). Answer it on the run page or "
                f"with POST /api/runs/{run.id}/answer; it then resumes on the workers.",
                returncode=2,
            )
        ended = "was cancelled" if run.status == Run.Status.CANCELLED else run.status
        raise CommandError(
            f"The run {ended}: {run.failure_reason or 'no reason given'} ({summary})."
        )

    def progress(self, run: Run, events: int, elapsed_s: float) -> None:
        """The line under the events, rewritten in place: only on a terminal, where it can be."""
        if self.stderr.isatty():
            tokens = run.input_tokens + run.output_tokens
            self.stderr.write(
                f"\r[{run.status}] {elapsed_s:5.1f} s · {events} events · {tokens} tokens · "
                f"${float(run.cost_usd):.4f}",
                plain,
                ending="",
            )

    def clear_progress(self) -> None:
        if self.stderr.isatty():
            self.stderr.write("\r\033[K", plain, ending="")


def find_user(username: str) -> Any:
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"No active user called {username!r}.")
    return user


def find_team(reference: str, workspace: str | None = None) -> Team:
    candidates = Team.objects.all()
    if workspace:
        candidates = candidates.filter(workspace__slug=workspace)
    if reference.isdigit():
        team = candidates.filter(id=int(reference)).first()
        if team is None:
            raise CommandError(f"No team has id {reference}.")
        return team
    teams = list(candidates.filter(name=reference))
    if not teams:
        raise CommandError(f"No team is called {reference!r}.")
    if len(teams) > 1:
        ids = ", ".join(str(t.id) for t in teams)
        raise CommandError(f"Several teams are called {reference!r} (ids {ids}); give the id.")
    return teams[0]


def parse_input(text: str) -> Any:
    """JSON if it parses, else the text itself: ``--input 'Summarise Q3'`` just works."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def event_line(event: RunEvent) -> str:
    width = shutil.get_terminal_size((120, 20)).columns
    summary = event_summary(event.type, event.payload)
    line = f"{event.seq:>5} {event.ts:%H:%M:%S} {event.type:<16} {event.agent or '-':<14} {summary}"
    return line if len(line) <= width else line[: width - 1] + "…"
