"""Each run's signed head: the seq and hash of its last event, signed whenever the run stops
executing (it ends, waits for a person, or the web tier appends to it) with the key from
``AUDIT_SIGNING_KEY``, which the database never holds. Someone who can write to the database
can rewrite events and recompute every hash after them, or delete the last ones, and the chain
still holds; the head they cannot sign again does not (``runs.audit.verify``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone

from . import signing

#: Runs signed per UPDATE by ``sign_unsigned``.
SIGN_BATCH = 500


def sign(run_id: Any, seq: int, hash_: str) -> dict[str, Any]:
    """The signed head of run ``run_id`` whose last event is ``seq`` with ``hash_``."""
    return signing.sign_head(
        settings.AUDIT_SIGNING_KEY, str(run_id), seq, hash_, timezone.now().isoformat()
    )


def verify_keys() -> dict[str, Any]:
    """The public keys a head may be signed with, by key id: the current one and those
    listed in ``AUDIT_VERIFY_KEYS`` (retired ones whose heads still verify)."""
    keys = [settings.AUDIT_SIGNING_KEY.public_key(), *settings.AUDIT_VERIFY_KEYS]
    return {signing.key_id(key): key for key in keys}


def published_keys() -> list[dict[str, Any]]:
    """What ``GET /api/audit/public-key`` publishes, the current key first."""
    current = signing.key_id(settings.AUDIT_SIGNING_KEY.public_key())
    return [
        {
            "key_id": key_id,
            "algorithm": "Ed25519",
            "public_key_pem": signing.public_pem(key),
            "current": key_id == current,
        }
        for key_id, key in verify_keys().items()
    ]


def problem(head: Any, run_id: Any) -> str | None:
    """Why ``head`` is not a valid signed head of the run, in a sentence; None if it is."""
    return signing.head_problem(head, str(run_id), verify_keys())


def sign_unsigned(run_model: type[Model], event_model: type[Model]) -> int:
    """Sign the current head of every run that has events and no signed head: the upgrade
    that introduced signed heads does this for the runs before it (the operator vouches for
    the database as it is then), and ``manage.py sign_audit_heads`` for runs that ended on a
    worker that did not sign yet. Takes the models as arguments so a migration can pass its
    own. Returns how many runs it signed."""
    last = event_model.objects.filter(run=OuterRef("pk")).order_by("-seq")  # type: ignore[attr-defined]
    unsigned = (
        run_model.objects.filter(audit_head__isnull=True)  # type: ignore[attr-defined]
        .annotate(
            last_seq=Subquery(last.values("seq")[:1]), last_hash=Subquery(last.values("hash")[:1])
        )
        .filter(last_seq__isnull=False)
        .only("pk")
        .order_by("pk")
    )
    signed = 0
    while batch := list(unsigned[:SIGN_BATCH]):
        for run in batch:
            run.audit_head = sign(run.pk, run.last_seq, run.last_hash)
        run_model.objects.bulk_update(batch, ["audit_head"])  # type: ignore[attr-defined]
        signed += len(batch)
    return signed
