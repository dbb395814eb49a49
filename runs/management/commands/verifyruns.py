"""``manage.py verifyruns``: verify every run's audit trail and every artifact's file, as after
restoring a backup (docs/operating.md, "Backups")."""

import hashlib
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from runs.audit import verify
from runs.models import Artifact, Run


class Command(BaseCommand):
    help = (
        "Verify every run's hash chain against its signed head (an archived run's against its "
        "archive under ARCHIVE_ROOT) and every artifact's file under MEDIA_ROOT against its "
        "sha256. Exits 1 and names each run or artifact that does not verify."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        problems = [*self.runs(), *self.artifacts()]
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} problems: see above.")

    def runs(self) -> list[str]:
        problems, checked, events = [], 0, 0
        for run in Run.objects.order_by("created_at").iterator(chunk_size=500):
            result = verify(run)
            checked, events = checked + 1, events + result["events"]
            if not result["ok"]:
                problems.append(f"Run {run.id} does not verify: {result['reason']}")
        self.stdout.write(f"Verified {checked} runs ({events} events).")
        return problems

    def artifacts(self) -> list[str]:
        problems, checked = [], 0
        for artifact in Artifact.objects.order_by("created_at").iterator(chunk_size=500):
            checked += 1
            try:
                with artifact.file.open("rb") as file:
                    digest = hashlib.file_digest(file, "sha256").hexdigest()
            except OSError:
                problems.append(
                    f"Artifact {artifact.id} ({artifact.name}) has no file: restore MEDIA_ROOT."
                )
                continue
            if digest != artifact.sha256:
                problems.append(
                    f"Artifact {artifact.id} ({artifact.name}) differs from what the run wrote."
                )
        self.stdout.write(f"Checked {checked} artifact files.")
        return problems
