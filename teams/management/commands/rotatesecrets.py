"""Re-encrypt every stored secret with the first key of SECRETS_ENCRYPTION_KEYS.

Rotating: put a new key first in SECRETS_ENCRYPTION_KEYS (keep the old ones after it), restart,
run this, then remove the old keys.
"""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from teams.credentials import rotate
from teams.models import Secret


class Command(BaseCommand):
    help = "Re-encrypt every stored secret with the first key of SECRETS_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        count = 0
        with transaction.atomic():
            for secret in Secret.objects.select_for_update().only("pk", "ciphertext"):
                Secret.objects.filter(pk=secret.pk).update(ciphertext=rotate(secret.ciphertext))
                count += 1
        self.stdout.write(f"Re-encrypted {count} secret{'s' if count != 1 else ''}.")
