from django.db import migrations, models

from orchestration_site.indexes import AddIndexWithoutBlocking


class Migration(migrations.Migration):
    """The runs list filtered by ``failed`` or ``cancelled`` read every run of the workspace
    once 0011 dropped the status index (docs/architecture.md, "Run indexes"): a partial index
    of those runs alone, built without blocking writes (``orchestration_site.indexes``)."""

    atomic = False

    dependencies = [
        ("runs", "0011_fewer_indexes"),
    ]

    operations = [
        AddIndexWithoutBlocking(
            model_name="run",
            index=models.Index(
                condition=models.Q(("status__in", ["failed", "cancelled"])),
                fields=["workspace", "-created_at"],
                name="run_failed_or_cancelled",
            ),
        ),
    ]
