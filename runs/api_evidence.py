"""The evidence bundle in the JSON API (``runs.evidence`` says what is in it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import FileResponse, HttpRequest
from ninja import Router

from workspaces.operations import requires

from . import evidence
from .api import file_responses, get_run

router = Router(tags=["runs"])


@router.get(
    "/runs/{uuid:run_id}/evidence.zip",
    url_name="run-evidence",
    openapi_extra=file_responses("application/zip"),
)
@requires("audit.export")
def evidence_bundle(request: HttpRequest, run_id: UUID) -> Any:
    """One zip to keep as evidence: the verified trail with its signed head, the public keys,
    the artifacts, the webhook delivery log, the trace id and a README on checking them."""
    run = get_run(request, run_id)
    return FileResponse(
        evidence.write_bundle(run),
        as_attachment=True,
        filename=f"run-{run.id}-evidence.zip",
        content_type="application/zip",
    )
