from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from .models import SLUG_PATTERN


class PublishForm(forms.Form):
    version = forms.TypedChoiceField(coerce=int, label="Version")
    slug = forms.CharField(
        max_length=50,
        label="Slug",
        validators=[RegexValidator(SLUG_PATTERN, "Use lower-case letters, digits and hyphens.")],
        widget=forms.TextInput(attrs={"placeholder": "help-desk"}),
    )
    rate_limit = forms.CharField(
        max_length=50,
        required=False,
        label="Calls per key",
        widget=forms.TextInput(attrs={"placeholder": "60/minute"}),
    )

    widget_origins = forms.CharField(
        required=False,
        label="Widget origins",
        help_text="One origin a line, e.g. https://shop.example.com: their pages may embed "
        "the chat widget. Empty: no widget. Publishing again replaces them.",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "https://shop.example.com"}),
    )

    def clean_widget_origins(self) -> list[str]:
        return [
            line.strip()
            for line in self.cleaned_data["widget_origins"].splitlines()
            if line.strip()
        ]

    def __init__(self, *args: Any, versions: list[int], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(n, f"v{n}") for n in versions]


class KeyForm(forms.Form):
    name = forms.CharField(max_length=100, label="Key name")
