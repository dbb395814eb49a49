"""The JSON API under /api/: one NinjaAPI, with a router per app."""

from functools import partial
from typing import Any

from ninja.errors import ValidationError

from conversations.api import router as conversations_router
from evaluations.api import router as evaluations_router
from publishing.api import router as publishing_router
from runs.api import router as runs_router
from runs.api_evidence import router as evidence_router
from runs.api_inbox import router as inbox_router
from runs.api_model_checks import router as model_checks_router
from runs.api_node_tests import router as node_tests_router
from runs.api_webhooks import router as webhooks_router
from teams.api import request_invalid, spec_rejected
from teams.api import router as teams_router
from teams.api_credentials import router as models_router
from teams.api_templates import router as templates_router
from teams.api_tools import router as tools_router
from teams.auth import api_auth
from teams.schemas import link_teamspec
from teams.services import SpecRejected
from triggers.api import router as triggers_router
from workspaces import access
from workspaces.api import install_error_answers
from workspaces.api import router as workspaces_router

from .openapi import DocumentedErrorsAPI
from .quotas import QuotaExceeded

api = DocumentedErrorsAPI(
    title="Agent-team orchestrator API",
    version="1",
    description="Build, run and audit teams of LLM agents. Authenticate with the browser "
    "session (and its CSRF token) or `Authorization: Bearer <token>`.",
    auth=api_auth,
    urls_namespace="api",
)
api.add_router("/", teams_router)
api.add_router("/", runs_router)
api.add_router("/", node_tests_router)

api.add_router("/", inbox_router)
api.add_router("/", evidence_router)
api.add_router("/", tools_router)
api.add_router("/", models_router)
api.add_router("/", model_checks_router)
api.add_router("/", templates_router)
api.add_router("/", webhooks_router)
api.add_router("/", triggers_router)
api.add_router("/", publishing_router)
api.add_router("/", workspaces_router)
install_error_answers(api)
api.add_router("/", evaluations_router)
api.add_router("/", conversations_router)
# Every 422 has the contract's shape: {"detail": "<sentence>", "problems": [...]}.
api.add_exception_handler(SpecRejected, partial(spec_rejected, api=api))
api.add_exception_handler(ValidationError, partial(request_invalid, api=api))
api.add_exception_handler(QuotaExceeded, lambda request, exc: exc.as_json_response())
# Not a member (or no such object): 404; a member whose role lacks the permission: 403 with
# the sentence naming the roles that have it (workspaces.access). Both in the contract's
# shape, ``problems`` included (empty), as every error body of the API is.
api.add_exception_handler(
    access.NotFound,
    lambda request, exc: api.create_response(
        request, {"detail": str(exc), "problems": []}, status=404
    ),
)
api.add_exception_handler(
    access.Forbidden,
    lambda request, exc: api.create_response(
        request, {"detail": str(exc), "problems": []}, status=403
    ),
)


def _openapi_with_teamspec(*args: Any, **kwargs: Any) -> Any:
    return link_teamspec(_ninja_openapi(*args, **kwargs))


# Specs are parsed in the views (so their problems come back in one shape); the document
# still describes them in full, as the TeamSpec component.
_ninja_openapi = api.get_openapi_schema
api.get_openapi_schema = _openapi_with_teamspec  # type: ignore[method-assign]
