"""Every account that predates workspaces gets its personal workspace, as owner."""

from django.conf import settings
from django.db import migrations

from workspaces.migrating import ensure_personal_workspaces


def personal_workspaces(apps, schema_editor):
    ensure_personal_workspaces(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("workspaces", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(personal_workspaces, migrations.RunPython.noop)]
