"""Keys of a publication taken down before unpublishing revoked them: revoked now, as of the
takedown, so publishing it again does not bring them back."""

from typing import Any

from django.db import migrations
from django.db.models import OuterRef, Subquery


def revoke(apps: Any, schema_editor: Any) -> None:
    Publication = apps.get_model("publishing", "Publication")
    PublicationKey = apps.get_model("publishing", "PublicationKey")
    takedown = Publication.objects.filter(pk=OuterRef("publication_id")).values("unpublished_at")
    PublicationKey.objects.filter(
        revoked_at__isnull=True, publication__unpublished_at__isnull=False
    ).update(revoked_at=Subquery(takedown[:1]))


class Migration(migrations.Migration):
    dependencies = [("publishing", "0002_widget")]

    operations = [migrations.RunPython(revoke, migrations.RunPython.noop)]
