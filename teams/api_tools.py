"""The tools part of the JSON API: what agents can use, and a user's custom HTTP tools.

``GET /api/tools`` lists the built-in tools and the caller's custom tools with the JSON Schemas
models see; it starts no MCP server. ``GET /api/mcp-servers`` lists the stdio MCP servers the
operator registered, by the names a team refers to them with (never their commands). ``/api/custom-tools`` is CRUD on custom tools; a definition is validated by the
engine's own ``HttpToolDefinition`` (names, URL, argument schema, secret headers), so what the
API accepts is exactly what a run can call. Custom tools belong to a workspace (``?workspace=``
to list, ``"workspace"`` in the body to create); one of a workspace the caller is not in
answers 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError

from runs.engine.tools import builtin_registry
from runs.engine.tools.http_tool import HttpToolDefinition
from workspaces import operations
from workspaces.operations import WORKSPACE_QUERY, InWorkspaceBody, requires

from .api_credentials import refused
from .credentials import Refused
from .models import CustomTool
from .schemas import ErrorOut

router = Router(tags=["tools"])


class ToolOut(Schema):
    name: str
    description: str
    parameters: dict[str, Any]
    timeout_s: float
    output_cap: int
    source: str
    id: int | None = None


class McpServerOut(Schema):
    name: str
    description: str


class CustomToolOut(HttpToolDefinition):
    id: int
    created_at: str
    updated_at: str


class CustomToolCreate(HttpToolDefinition, InWorkspaceBody):
    pass


@router.get("/tools", response=list[ToolOut])
@requires("tool.view")
def list_tools(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    """The built-in tools, then the workspace's custom tools."""
    place = operations.workspace(request, workspace)
    tools = [tool.describe() for tool in builtin_registry().all()]
    for custom in CustomTool.objects.in_workspace(place):
        described = custom.as_tool().describe()
        tools.append({**described, "id": custom.pk})
    return tools


@router.get("/mcp-servers", response=list[McpServerOut])
@requires(None)
def list_mcp_servers(request: HttpRequest) -> Any:
    """What a team's stdio MCP server may name in ``server``: the operator's registry."""
    return [
        {"name": name, "description": server.description}
        for name, server in sorted(settings.MCP_SERVERS.items())
    ]


@router.get("/custom-tools", response=list[CustomToolOut])
@requires("tool.view")
def list_custom_tools(
    request: HttpRequest, workspace: str | None = Query(None, description=WORKSPACE_QUERY)
) -> Any:
    place = operations.workspace(request, workspace)
    return [_out(tool) for tool in CustomTool.objects.in_workspace(place)]


@router.post("/custom-tools", response={201: CustomToolOut, 409: ErrorOut, 422: ErrorOut})
@requires("tool.edit")
def create_custom_tool(request: HttpRequest, payload: CustomToolCreate) -> Any:
    tool = CustomTool(
        owner=request.auth, workspace=operations.workspace(request, payload.workspace)
    )
    definition = HttpToolDefinition.model_validate(payload.model_dump(exclude={"workspace"}))
    return Status(201, _save(tool, definition))


@router.get("/custom-tools/{tool_id}", response=CustomToolOut)
@requires("tool.view")
def read_custom_tool(request: HttpRequest, tool_id: int) -> Any:
    return _out(_get(request, tool_id))


@router.put("/custom-tools/{tool_id}", response={200: CustomToolOut, 409: ErrorOut, 422: ErrorOut})
@requires("tool.edit")
def update_custom_tool(request: HttpRequest, tool_id: int, payload: HttpToolDefinition) -> Any:
    return _save(_get(request, tool_id), payload)


@router.delete("/custom-tools/{tool_id}", response={204: None})
@requires("tool.edit")
def delete_custom_tool(request: HttpRequest, tool_id: int) -> Any:
    _get(request, tool_id).delete()
    return Status(204, None)


def _get(request: HttpRequest, tool_id: int) -> CustomTool:
    return operations.get(
        CustomTool.objects.all(),
        request,
        pk=tool_id,
        not_found=f"Custom tool {tool_id} was not found.",
    )


def _save(tool: CustomTool, definition: HttpToolDefinition) -> dict[str, Any]:
    try:
        tool.store(definition)
        return _out(tool)
    except Refused as exc:
        raise refused(exc) from None
    except ValueError as exc:
        raise HttpError(409, str(exc)) from exc


def _out(tool: CustomTool) -> dict[str, Any]:
    return {
        **tool.definition().model_dump(),
        "id": tool.pk,
        "created_at": tool.created_at.isoformat(),
        "updated_at": tool.updated_at.isoformat(),
    }
