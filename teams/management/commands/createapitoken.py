"""``manage.py createapitoken USER [--name NAME] [--workspace SLUG] [--role ROLE]
[--expires-days N]``: the new token alone on the last line."""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from teams.models import ApiToken, TokenRefused
from workspaces.models import Workspace
from workspaces.roles import ORDER


class Command(BaseCommand):
    help = (
        "Create an API token for USER and print it (shown once; only its digest is kept). "
        "It reaches one workspace (USER's personal one by default) with a role no higher than "
        "USER's there (USER's own by default)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line", help="What the token is for.")
        parser.add_argument("--workspace", help="The workspace's slug.")
        parser.add_argument("--role", choices=[r.value for r in ORDER])
        parser.add_argument(
            "--expires-days", type=int, help="Days until it stops working (default: never)."
        )

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user called {username!r}. Create one first.")
        workspace = None
        if slug := options.get("workspace"):
            workspace = Workspace.objects.filter(slug=slug).first()
            if workspace is None:
                raise CommandError(f"No workspace {slug!r}.")
        days = options.get("expires_days")
        if days is not None and days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        expires = timezone.now() + timedelta(days=days) if days else None
        try:
            row, token = ApiToken.issue(
                user, name, workspace=workspace, role=options.get("role"), expires_at=expires
            )
        except TokenRefused as exc:
            raise CommandError(str(exc)) from None
        until = f", until {row.expires_at:%Y-%m-%d %H:%M} UTC" if row.expires_at else ""
        self.stderr.write(
            f"Token {row.name!r} for {username} in {row.workspace.slug} as {row.role}{until}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(token)
