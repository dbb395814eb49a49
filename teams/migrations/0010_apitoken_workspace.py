"""API tokens are limited to one workspace and a role. Every existing token keeps doing what
it did: it goes to its user's personal workspace with the owner role (what its user is
there). Not atomic as a whole, so that the column is required only after the rows' updates
are committed (PostgreSQL refuses to alter a table with pending updates)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

from workspaces.migrating import ensure_personal_workspaces


def into_personal_workspaces(apps, schema_editor):
    ensure_personal_workspaces(apps)
    ApiToken = apps.get_model("teams", "ApiToken")
    Workspace = apps.get_model("workspaces", "Workspace")
    personal = Workspace.objects.filter(personal_for_id=OuterRef("user_id")).values("pk")[:1]
    ApiToken.objects.filter(workspace__isnull=True).update(
        workspace_id=Subquery(personal), role="owner"
    )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("teams", "0009_workspace_required"),
        ("workspaces", "0002_personal_workspaces"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="workspace",
            field=models.ForeignKey(
                null=True,
                on_delete=models.deletion.CASCADE,
                related_name="api_tokens",
                to="workspaces.workspace",
            ),
        ),
        migrations.AddField(
            model_name="apitoken",
            name="role",
            field=models.CharField(
                choices=[
                    ("owner", "Owner"),
                    ("admin", "Admin"),
                    ("editor", "Editor"),
                    ("runner", "Runner"),
                    ("viewer", "Viewer"),
                    ("auditor", "Auditor"),
                ],
                default="owner",
                max_length=10,
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, help_text="Never when empty.", null=True),
        ),
        migrations.RunPython(into_personal_workspaces, migrations.RunPython.noop, atomic=True),
        migrations.AlterField(
            model_name="apitoken",
            name="workspace",
            field=models.ForeignKey(
                on_delete=models.deletion.CASCADE,
                related_name="api_tokens",
                to="workspaces.workspace",
            ),
        ),
    ]
