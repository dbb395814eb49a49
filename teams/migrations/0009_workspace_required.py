"""The workspace of every owned row is set (the previous migration): it is now required.

A migration of its own, so that PostgreSQL never alters a table while the previous one's
row updates are still pending in the same transaction."""

from django.db import migrations, models

from workspaces.migrating import workspace_field

OWNED = ("team", "secret", "modelconfig", "customtool")


class Migration(migrations.Migration):
    dependencies = [("teams", "0008_workspaces")]

    operations = [
        *(
            migrations.AlterField(model_name=m, name="workspace", field=workspace_field(False))
            for m in OWNED
        ),
        migrations.AddIndex(
            model_name="team",
            index=models.Index(
                fields=["workspace", "-updated_at"], name="teams_team_workspa_acd336_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="customtool",
            constraint=models.UniqueConstraint(
                fields=("workspace", "name"), name="unique_custom_tool_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="modelconfig",
            constraint=models.UniqueConstraint(
                fields=("workspace", "name"), name="unique_model_config_name"
            ),
        ),
        migrations.AddConstraint(
            model_name="secret",
            constraint=models.UniqueConstraint(
                fields=("workspace", "name"), name="unique_secret_name"
            ),
        ),
    ]
