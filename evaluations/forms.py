"""The forms of the dataset pages: a new dataset, an upload, and an experiment with its
scorers (each scorer a checkbox and its options, checked by the API's own ``ScorerSpec``)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from pydantic import ValidationError

from teams.models import ModelConfig, Team
from teams.services import loads_storable
from workspaces.models import Workspace

from .scorers import SPECS

#: The scorers the experiment form offers, in its order: a title in words and what each checks
#: (the kind, its code name in the API, is the form's hint).
SCORER_KINDS: dict[str, tuple[str, str]] = {
    "exact": ("Exact text", "The output's text equals the expected text (trimmed)."),
    "json_equal": ("Same JSON", "The output's JSON equals the expected JSON."),
    "json_schema": ("Fits a JSON Schema", "The output fits a JSON schema."),
    "contains": ("Contains a text", "The output contains a text."),
    "regex": ("Matches a pattern", "A regular expression (RE2) matches the output."),
    "numeric": ("Close to a number", "A number within a tolerance of the expected one."),
    "judge": ("Graded by a model", "A model grades the output against a rubric (LLM-as-judge)."),
}


class DatasetForm(forms.Form):
    name = forms.CharField(max_length=200, label="Dataset name")
    description = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class UploadForm(forms.Form):
    file = forms.FileField(
        label="JSON Lines or CSV file",
        help_text='JSONL: one {"input": …, "expected": …, "tags": […]} a line. CSV: a header '
        "with an input column, and optionally expected and tags.",
    )


def _split(text: str) -> list[str] | None:
    names = [n.strip() for n in text.split(",") if n.strip()]
    return names or None


def _scorer_message(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"][2:])  # past the list index and the kind
    return f"{where}: {first['msg']}" if where else str(first["msg"])


class ExperimentForm(forms.Form):
    """A team version of the dataset's workspace, the scorers with their options, and how
    many runs at once; ``specs`` holds the checked scorers once the form is valid."""

    team = forms.ModelChoiceField(queryset=Team.objects.none(), empty_label=None)
    version = forms.IntegerField(
        required=False, min_value=1, help_text="Empty: the team's current version."
    )
    concurrency = forms.IntegerField(
        min_value=1, max_value=200, initial=4, help_text="How many runs at once (1 to 200)."
    )
    exact = forms.BooleanField(required=False, initial=True)
    json_equal = forms.BooleanField(required=False)
    json_equal_fields = forms.CharField(
        required=False,
        label="Fields",
        help_text="Top-level fields, separated by commas; all if empty.",
    )
    json_equal_tolerance = forms.FloatField(required=False, min_value=0, label="Tolerance")
    json_schema = forms.BooleanField(required=False)
    json_schema_schema = forms.CharField(
        required=False, label="Schema (JSON)", widget=forms.Textarea(attrs={"rows": 3})
    )
    contains = forms.BooleanField(required=False)
    contains_text = forms.CharField(
        required=False, label="Text", help_text="Empty: the expected output."
    )
    contains_case_sensitive = forms.BooleanField(required=False, label="Case sensitive")
    regex = forms.BooleanField(required=False)
    regex_pattern = forms.CharField(required=False, max_length=2000, label="Pattern")
    numeric = forms.BooleanField(required=False)
    numeric_field = forms.CharField(
        required=False, label="Field", help_text="Empty: the whole output is the number."
    )
    numeric_tolerance = forms.FloatField(required=False, min_value=0, label="Tolerance")
    judge = forms.BooleanField(required=False)
    judge_model = forms.ChoiceField(required=False, label="Model")
    judge_rubric = forms.CharField(
        required=False, max_length=20000, label="Rubric", widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.in_workspace(workspace).order_by("name")  # type: ignore[attr-defined]
        names = ModelConfig.objects.in_workspace(workspace).order_by("name")
        self.fields["judge_model"].choices = [("offline", "offline (simulated)")] + [  # type: ignore[attr-defined]
            (n, n) for n in names.values_list("name", flat=True)
        ]
        self.specs: list[Any] = []

    def scorer_groups(self) -> list[dict[str, Any]]:
        """Each scorer's checkbox, what it checks, and its option fields, for the template."""
        return [
            {
                "kind": kind,
                "title": title,
                "about": about,
                "checkbox": self[kind],
                "options": [self[n] for n in self.fields if n.startswith(f"{kind}_")],
            }
            for kind, (title, about) in SCORER_KINDS.items()
        ]

    def _spec(self, kind: str) -> dict[str, Any]:
        data = self.cleaned_data
        spec: dict[str, Any] = {"kind": kind}
        if kind == "json_equal":
            spec["fields"] = _split(data.get("json_equal_fields") or "")
            spec["tolerance"] = data.get("json_equal_tolerance") or 0.0
        elif kind == "json_schema":
            try:
                spec["schema"] = loads_storable(data.get("json_schema_schema") or "")
            except json.JSONDecodeError:
                raise forms.ValidationError("The schema is not JSON.") from None
            except ValueError as exc:
                raise forms.ValidationError(f"The schema cannot be stored: {exc}") from None
        elif kind == "contains":
            spec["text"] = data.get("contains_text") or None
            spec["case_sensitive"] = bool(data.get("contains_case_sensitive"))
        elif kind == "regex":
            spec["pattern"] = data.get("regex_pattern") or ""
        elif kind == "numeric":
            spec["field"] = data.get("numeric_field") or None
            spec["tolerance"] = data.get("numeric_tolerance") or 0.0
        elif kind == "judge":
            spec["model"] = data.get("judge_model") or "offline"
            spec["rubric"] = data.get("judge_rubric") or ""
        return spec

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [kind for kind in SCORER_KINDS if data.get(kind)]
        if not chosen:
            raise forms.ValidationError("Choose at least one scorer.")
        for kind in chosen:
            try:
                self.specs.extend(SPECS.validate_python([self._spec(kind)]))
            except forms.ValidationError as exc:
                self.add_error(kind, exc)
            except ValidationError as exc:
                self.add_error(kind, _scorer_message(exc))
        return data
