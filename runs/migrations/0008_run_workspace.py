"""Runs belong to a workspace: each goes to the one its starter's teams went to, their
personal workspace (workspaces 0002). ``owner`` stays: who started it."""

from django.db import migrations

from workspaces import migrating
from workspaces.migrating import workspace_field


def into_personal_workspaces(apps, schema_editor):
    migrating.into_personal_workspaces(apps, "runs", ("run",))


class Migration(migrations.Migration):
    dependencies = [
        ("runs", "0007_run_archive"),
        ("workspaces", "0002_personal_workspaces"),
    ]

    operations = [
        migrations.AddField(model_name="run", name="workspace", field=workspace_field(True)),
        migrations.RunPython(into_personal_workspaces, migrations.RunPython.noop),
    ]
