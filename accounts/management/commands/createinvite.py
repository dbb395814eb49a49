"""``manage.py createinvite [--note TEXT]``: a one-time sign-up link alone on the last line."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Invitation


class Command(BaseCommand):
    help = "Create a one-time sign-up link (for SIGNUP=invite) and print it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--note", default="", help="Who the invitation is for.")

    def handle(self, *args: Any, note: str, **options: Any) -> None:
        _, token = Invitation.issue(None, note)
        if settings.SIGNUP != "invite":
            self.stderr.write(
                f"Note: SIGNUP is {settings.SIGNUP!r}; the link works only with SIGNUP=invite."
            )
        self.stderr.write(f"One sign-up, within {settings.INVITE_VALID_DAYS} days; shown only now:")
        self.stdout.write(invite_link(token))


def invite_link(token: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/signup/?invite={token}"
