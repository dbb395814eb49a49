"""The OpenAPI document tells the whole truth about errors.

Every operation of the API can answer with the contract's error body (``{"detail", "problems"}``)
for reasons no single endpoint declares: a body that is not JSON (400), no credentials (401),
a role that does not allow it (403), an object of a workspace the caller is not in (404), a path or query parameter of the wrong type (422),
a quota reached (429).
Declaring them once here keeps each endpoint's ``response=`` about its own outcomes, and lets
clients generated from the document (and the schemathesis fuzz in CI) expect them.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI

from teams.schemas import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
COMMON_ERRORS = {
    "400": "The request body could not be read: not JSON, or not an object.",
    "401": "No valid session or bearer token.",
    "403": "You are a member of the workspace, but your role does not allow this; `detail` "
    "names the roles that do (docs/permissions.md).",
    "404": "No such object or workspace, or it lives in a workspace you are not a member of.",
    "422": "A parameter or the body is not valid; `problems` says which.",
    "429": "A quota is reached (docs/security.md); `Retry-After` says when to try again.",
}


class DocumentedErrorsAPI(NinjaAPI):
    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(*args, **kwargs)
        add_common_errors(schema)
        return schema


def add_common_errors(schema: Any) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in error.pop("$defs", {}).items():
        components.setdefault(name, definition)
    components.setdefault("ErrorOut", error)
    for path, item in schema.get("paths", {}).items():
        for operation in item.values():
            # ninja keys its own responses by int: as JSON, 404 and "404" would be one key
            # written twice, which YAML/JSON readers (Swagger UI's among them) refuse.
            responses = {str(k): v for k, v in operation.get("responses", {}).items()}
            operation["responses"] = responses
            for status in _applicable(path, operation):
                responses.setdefault(
                    status,
                    {
                        "description": COMMON_ERRORS[status],
                        "content": {"application/json": {"schema": ERROR_REF}},
                    },
                )


def _applicable(path: str, operation: dict[str, Any]) -> list[str]:
    statuses = ["422"]
    if "requestBody" in operation:
        statuses.append("400")
    if operation.get("security"):
        # Any authenticated operation may name a workspace (?workspace=, a body's
        # "workspace", or an object's): not a member, or no such one, is a 404.
        statuses.extend(["401", "403", "404", "429"])
    elif "{" in path:
        statuses.append("404")
    return statuses
