"""Teams, secrets, model configs and custom tools belong to a workspace: each goes to its
owner's personal workspace (workspaces 0002), and names are unique per workspace."""

from django.db import migrations

from workspaces import migrating
from workspaces.migrating import workspace_field

OWNED = ("team", "secret", "modelconfig", "customtool")


def into_personal_workspaces(apps, schema_editor):
    migrating.into_personal_workspaces(apps, "teams", OWNED)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0007_model_providers"),
        ("workspaces", "0002_personal_workspaces"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="customtool", name="unique_custom_tool_name"),
        migrations.RemoveConstraint(model_name="modelconfig", name="unique_model_config_name"),
        migrations.RemoveConstraint(model_name="secret", name="unique_secret_name"),
        migrations.RemoveIndex(model_name="team", name="teams_team_owner_i_12e35e_idx"),
        *(
            migrations.AddField(model_name=m, name="workspace", field=workspace_field(True))
            for m in OWNED
        ),
        migrations.RunPython(into_personal_workspaces, migrations.RunPython.noop),
    ]
