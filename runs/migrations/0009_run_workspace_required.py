"""The workspace of every run is set (the previous migration): it is now required.

A migration of its own, so that PostgreSQL never alters a table while the previous one's
row updates are still pending in the same transaction."""

from django.db import migrations, models

from workspaces.migrating import workspace_field


class Migration(migrations.Migration):
    dependencies = [("runs", "0008_run_workspace")]

    operations = [
        migrations.AlterField(model_name="run", name="workspace", field=workspace_field(False)),
        migrations.AddIndex(
            model_name="run",
            index=models.Index(
                fields=["workspace", "-created_at"], name="runs_run_workspa_4f15e7_idx"
            ),
        ),
    ]
