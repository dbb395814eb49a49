"""``manage.py createapitoken USER [--name NAME]``: the new token alone on the last line."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from teams.models import ApiToken


class Command(BaseCommand):
    help = "Create an API token for USER and print it (shown once; only its digest is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user called {username!r}. Create one first.")
        row, token = ApiToken.issue(user, name)
        self.stderr.write(
            f"Token {row.name!r} for {username}; store it now, it is not shown again:"
        )
        self.stdout.write(token)
