"""The custom tools page: list, add and delete a user's HTTP tools."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from runs.engine.tools import builtin_registry
from runs.engine.tools.http_tool import HttpToolDefinition
from workspaces import operations
from workspaces.operations import page

from .credentials import Refused
from .models import CustomTool
from .services import loads_storable

EXAMPLE_SCHEMA = '{"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}'  # fmt: skip


class CustomToolForm(forms.Form):
    name = forms.CharField(max_length=64, help_text="lower_snake_case, e.g. order_lookup.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="What the tool does, for the model."
    )
    url = forms.CharField(
        label="URL", max_length=2000, help_text="May use {argument} placeholders."
    )
    method = forms.ChoiceField(choices=CustomTool.Method.choices)
    parameters = forms.CharField(
        label="Arguments (JSON Schema)",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": EXAMPLE_SCHEMA}),
        required=False,
    )
    headers = forms.CharField(
        label="Headers (JSON object)",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": '{"Authorization": "secret:ORDERS_TOKEN"}'}),
        required=False,
        help_text="Secret values as secret:NAME, a secret you stored bound to the tool's host; never the value itself.",
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.definition = HttpToolDefinition(
                name=data["name"], description=data["description"], url=data["url"],
                method=data["method"], parameters=_json(data["parameters"], "parameters"),
                headers=_json(data["headers"], "headers"),
            )  # fmt: skip
        except ValidationError as exc:
            for problem in exc.errors():
                field = str(problem["loc"][0]) if problem["loc"] else None
                message = problem["msg"].removeprefix("Value error, ")
                self.add_error(field if field in self.fields else None, message)
        return data


def _json(text: str, field: str) -> Any:
    if not text.strip():
        return {"type": "object", "properties": {}} if field == "parameters" else {}
    try:
        return loads_storable(text)
    except json.JSONDecodeError as exc:
        message = f"Not valid JSON: {exc.msg} (line {exc.lineno})."
        raise forms.ValidationError({field: message}) from None
    except ValueError as exc:
        raise forms.ValidationError({field: str(exc)}) from None


@page({"GET": "tool.view", "POST": "tool.edit"})
def custom_tool_list(request: HttpRequest) -> HttpResponse:
    workspace = operations.current(request)
    form = CustomToolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        tool = CustomTool(owner=request.user, workspace=workspace)
        try:
            tool.store(form.definition)
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        except ValueError as exc:
            form.add_error("name", str(exc))
        else:
            messages.success(request, f"Tool “{tool.name}” added.")
            return redirect("custom-tool-list")
    context = {
        "tools": CustomTool.objects.in_workspace(workspace),
        "builtins": builtin_registry().all(),
        "form": form,
    }
    return render(request, "teams/custom_tool_list.html", context)


@page("tool.edit")
@require_POST
def custom_tool_delete(request: HttpRequest, tool_id: int) -> HttpResponse:
    tool = operations.get(CustomTool.objects.all(), request, pk=tool_id)
    tool.delete()
    messages.success(request, f"Tool “{tool.name}” removed.")
    return redirect("custom-tool-list")
