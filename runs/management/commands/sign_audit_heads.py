"""``manage.py sign_audit_heads``: sign the current head of every run that has none."""

from typing import Any

from django.core.management.base import BaseCommand

from runs.heads import sign_unsigned
from runs.models import Run, RunEvent


class Command(BaseCommand):
    help = (
        "Sign the current head of every run that has events and no signed head: runs that "
        "ended on a worker that did not sign heads yet (during an upgrade). Signing vouches "
        "for the trail as the database holds it now; run it only if you trust that."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        signed = sign_unsigned(Run, RunEvent)
        self.stdout.write(f"Signed the audit heads of {signed} runs.")
