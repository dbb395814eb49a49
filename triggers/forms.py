"""The schedule and trigger forms of the team's "Schedules and triggers" page. They check what
the API's schemas check (``triggers.api``), with the same sentences."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms

from teams.services import loads_storable

from . import cron, signing
from .models import Trigger

MAX_INPUT_CHARS = 100_000


def checked(value: str, check: Callable[[str], object]) -> str:
    """``value`` when ``check`` accepts it; the sentence of its ``ValueError`` as the field's
    error otherwise (the API's schemas say the same)."""
    try:
        check(value)
    except ValueError as exc:
        raise forms.ValidationError(str(exc)) from None
    return value


def zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(cron.zone_names())]


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, label="Name")
    cron = forms.CharField(
        max_length=200,
        label="Cron",
        help_text="Five fields: minute hour day-of-month month day-of-week, e.g. 0 9 * * 1-5.",
    )
    timezone = forms.ChoiceField(choices=zone_choices, initial="UTC", label="Time zone")
    input = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        max_length=MAX_INPUT_CHARS,
        required=False,
        initial="{}",
        label="Input (JSON)",
        help_text="What every run it starts is given.",
    )
    enabled = forms.BooleanField(required=False, initial=True, label="On")

    def clean_cron(self) -> str:
        return checked(self.cleaned_data["cron"].strip(), cron.fields)

    def clean_input(self) -> Any:
        text = self.cleaned_data["input"].strip() or "{}"
        try:
            value = loads_storable(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"This is not JSON ({exc.msg}, line {exc.lineno} column {exc.colno})."
            ) from None
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if value is None:
            raise forms.ValidationError("Give an input, not null: {} for none.")
        return value


class TriggerForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, label="Name")
    scheme = forms.ChoiceField(
        choices=Trigger.Scheme.choices, initial=Trigger.Scheme.ORCHESTRATOR, label="Signed as"
    )
    input_pointer = forms.CharField(
        max_length=500,
        required=False,
        label="Input at",
        help_text="A JSON pointer into the body, e.g. /pull_request; empty: the whole body.",
    )

    def clean_input_pointer(self) -> str:
        return checked(self.cleaned_data["input_pointer"].strip(), signing.parse_pointer)
