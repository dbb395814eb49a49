"""``manage.py bootstrap``: what ``make run`` needs on a fresh machine, safe to run again.

Creates a demo user when there is no user at all (and prints how to log in), then loads the
team templates when the ``loadtemplates`` command is installed.
"""

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandParser

DEMO_USERNAME = "demo"


class Command(BaseCommand):
    help = "Create a demo user if there is none, and load the team templates."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", help="Password for the demo user (default: a random one, printed)."
        )

    def handle(self, *args: Any, password: str | None, **options: Any) -> None:
        User = get_user_model()
        if not User.objects.exists():
            password = password or secrets.token_urlsafe(9)
            User.objects.create_user(DEMO_USERNAME, password=password)
            self.stdout.write(
                self.style.SUCCESS(
                    f"\n  Demo user created. Log in at {settings.SITE_URL}/login/ with\n"
                    f"    username: {DEMO_USERNAME}\n    password: {password}\n"
                )
            )
        else:
            self.stdout.write("Users exist already; no demo user created.")
        if "loadtemplates" in get_commands():
            call_command("loadtemplates", stdout=self.stdout, stderr=self.stderr)
