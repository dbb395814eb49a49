"""The evidence bundle: one zip a compliance reader can keep and check without the product.

It holds the audit trail as exported (JSON Lines, signed head last), the signed head and the
public keys that verify it, what the product said when it verified the trail, the run's
artifacts with their SHA-256, every webhook delivery attempt, the OpenTelemetry trace id, a
copy of ``docs/examples/verify_audit.py``, and a README saying how to check each part.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.utils import timezone

from . import audit, heads
from .models import Run

VERIFY_SCRIPT = Path(settings.BASE_DIR) / "docs" / "examples" / "verify_audit.py"

# Bundles are built in memory up to this size, then in a temporary file: artifacts can be big.
IN_MEMORY_BYTES = 8 * 1024 * 1024


def trace_id(run: Run) -> str:
    """The run's OpenTelemetry trace id: its UUID as 32 hex digits (runs.telemetry)."""
    return run.id.hex


def started_by(run: Run) -> str:
    return run.started_by or f"user {run.owner.username}"


def answered_by(run: Run) -> list[dict[str, Any]]:
    """Who answered each question the run asked, and when, from its trail."""
    return [
        {"seq": e.seq, "at": e.ts.isoformat(), "by": e.payload.get("by") or "", "key": e.key}
        for e in run.events.filter(type="human.answered").order_by("seq")
    ]


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n"


def _trail(run: Run) -> bytes:
    if run.is_archived:
        with run.archive_file().open("rb") as file:
            return file.read()
    return "".join(audit.jsonl_lines(run)).encode()


def _deliveries(run: Run) -> list[dict[str, Any]]:
    fields = ("webhook_id", "delivery_id", "kind", "url", "attempt", "ok", "status_code",
              "error", "duration_ms", "next_retry_at", "created_at")  # fmt: skip
    return list(run.webhook_deliveries.order_by("created_at", "attempt").values(*fields))


def write_bundle(run: Run) -> IO[bytes]:
    """The bundle as an open file, at its start."""
    # Returned open: the response streams it and closes it.
    out = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115
    trail = _trail(run)
    verification = audit.verify(run)
    keys = heads.published_keys()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("trail.jsonl", trail)
        zf.writestr("signed-head.json", _json(verification.get("head")))
        zf.writestr("public-keys.json", _json({**keys[0], "keys": keys}))
        zf.writestr("verification.json", _json(verification))
        zf.writestr("webhook-deliveries.json", _json(_deliveries(run)))
        zf.writestr("trace-id.txt", trace_id(run) + "\n")
        sums = []
        for artifact in run.artifacts.all():
            name = f"artifacts/{artifact.id}-{artifact.download_name()}"
            digest = hashlib.sha256()
            with artifact.file.open("rb") as src, zf.open(name, "w") as dst:
                for chunk in iter(lambda: src.read(1 << 16), b""):
                    digest.update(chunk)
                    dst.write(chunk)
            sums.append(f"{digest.hexdigest()}  {name}\n")
        zf.writestr("artifacts.sha256", "".join(sums))
        zf.writestr("verify_audit.py", VERIFY_SCRIPT.read_bytes())
        zf.writestr("README.md", readme(run, verification, len(sums)))
    out.seek(0)
    return out


def readme(run: Run, verification: dict[str, Any], artifacts: int) -> str:
    answers = answered_by(run)
    who_answered = "\n".join(
        f"  - event {a['seq']}, {a['at']}: {a['by'] or 'unknown'}" for a in answers
    )
    verdict = "verified" if verification["ok"] else f"did NOT verify: {verification.get('reason')}"
    site = settings.SITE_URL.rstrip("/")
    return f"""# Evidence bundle for run {run.id}

Made {timezone.now().isoformat()} (UTC) by the agent-team orchestrator at {site}.

- Team: {run.team_name}{f" (version {run.team_version.number})" if run.team_version else ""}
- Status: {run.status}
- Started by: {started_by(run)}
- Created: {run.created_at.isoformat()}; started: {run.started_at.isoformat() if run.started_at else "-"}; ended: {run.finished_at.isoformat() if run.finished_at else "-"} (times in UTC)
- Questions answered by people:
{who_answered or "  - none"}
- OpenTelemetry trace id: {trace_id(run)}
- When this bundle was made, the product said the trail {verdict}

## What is in it

| file | what it is |
| --- | --- |
| `trail.jsonl` | every event of the run, one JSON object a line, each with the hash that chains it to the one before; the last line is `{{"signed_head": ...}}` |
| `signed-head.json` | the run's signed head alone: the last event's number and hash, signed with Ed25519 |
| `public-keys.json` | the keys that verify signed heads, as `{site}/api/audit/public-key` gave them |
| `verification.json` | the product's own check of the trail when the bundle was made |
| `webhook-deliveries.json` | every attempt to deliver the run's webhooks: where, when, the answer |
| `trace-id.txt` | the run's trace id in your tracing backend (OpenTelemetry) |
| `artifacts/` and `artifacts.sha256` | the {artifacts} file(s) the run made, and their SHA-256 |
| `verify_audit.py` | a checker that needs only Python 3 and the `cryptography` package |

## How to check it

1. The trail and its signature, with nothing but this folder:

       pip install cryptography
       python3 verify_audit.py trail.jsonl public-keys.json

   It prints `intact: ...` and exits 0, or says which event is wrong and exits 1. Any edited,
   removed, added or reordered event breaks the hash chain or no longer matches the signed head.
2. The key: `public-keys.json` came with the bundle, so compare it with what the operator
   publishes (`curl {site}/api/audit/public-key`) or with a copy you were given another way.
   A bundle signed with a key you cannot trust proves nothing.
3. The artifacts: `sha256sum -c artifacts.sha256`.
4. The trace: search your tracing backend for trace id `{trace_id(run)}`; its spans carry the
   same span ids as the trail's events.

docs/reading-an-audit-trail.md in the product's repository explains each event type.
"""
