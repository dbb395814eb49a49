from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pydantic
from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from runs.engine.models import catalogue
from workspaces.access import member_workspaces
from workspaces.models import PERSONAL_FIRST, Workspace
from workspaces.roles import ORDER

from .credentials import Refused, operator_credentials
from .model_configs import (
    ConnectIn,
    ModelConfigIn,
    SecretIn,
    connect_model,
    save_model_config,
    store_secret,
)
from .models import ApiToken, ModelConfig, Secret, Team, TokenRefused


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Team name")
    pattern = forms.ChoiceField(
        choices=Team.Pattern.choices,
        help_text="How the agents work together; a nested team can use another pattern.",
    )


class TeamRenameForm(forms.Form):
    name = forms.CharField(max_length=200, label="New name")


class TokenCreateForm(forms.Form):
    """A new API token: one of the user's workspaces, a role no higher than theirs there."""

    name = forms.CharField(
        max_length=100, label="Token name", help_text="What will use it, e.g. 'CI' or 'laptop'."
    )
    workspace = forms.ModelChoiceField(
        queryset=None, to_field_name="slug", empty_label=None, required=False
    )
    role = forms.ChoiceField(
        required=False, help_text="Empty: your own role in the workspace, lowered when yours is."
    )
    expires_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Expires in (days)",
        help_text="Empty: never.",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        field = self.fields["workspace"]
        field.queryset = member_workspaces(user).order_by(PERSONAL_FIRST, "name")  # type: ignore[attr-defined]
        self.fields["role"].choices = [("", "my role")] + [(r.value, r.label) for r in ORDER]  # type: ignore[attr-defined]

    def issue(self) -> str | None:
        """The new token, or None with the refusal shown on the role field."""
        days = self.cleaned_data.get("expires_days")
        try:
            _, token = ApiToken.issue(
                self.user,
                self.cleaned_data["name"],
                workspace=self.cleaned_data.get("workspace"),
                role=self.cleaned_data.get("role") or None,
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
        except TokenRefused as exc:
            self.add_error("role", str(exc))
            return None
        return token


class RefusedInto(forms.Form):
    """A form whose saving action may refuse input: its errors land on the field at fault."""

    def save_or_refuse(self, action: Callable[[], Any]) -> Any:
        """``action()``'s result, or None with the refusal shown in the form."""
        try:
            return action()
        except Refused as refused:
            field = refused.field if refused.field in self.fields else None
            self.add_error(field, refused.message)
        except pydantic.ValidationError as exc:
            for err in exc.errors():
                field = str(err["loc"][0]) if err["loc"] else None
                message = err["msg"].removeprefix("Value error, ")
                self.add_error(field if field in self.fields else None, message)
        return None


class ModelConfigForm(RefusedInto):
    name = forms.CharField(max_length=100, help_text="What agents call it in a team.")
    provider = forms.ChoiceField(choices=ModelConfig.Provider.choices)
    preset = forms.ChoiceField(
        required=False,
        label="Or a preset",
        help_text="A known server (OpenAI, Azure OpenAI, OpenRouter, Ollama, vLLM, Anthropic, "
        "Gemini): sets the provider and the base URL, unless you give one.",
    )
    model = forms.CharField(
        max_length=200, help_text="The provider's model name, e.g. gpt-4o-mini."
    )
    credential = forms.ChoiceField(
        required=False,
        label="Operator credential",
        help_text="A key the operator lends: its base URL and prices come with it.",
    )
    secret = forms.ChoiceField(
        required=False,
        label="Or a secret of yours",
        help_text="Sent only to the hosts the secret is bound to.",
    )
    base_url = forms.CharField(
        required=False,
        max_length=200,
        label="Base URL",
        help_text="With a secret, or a credential that lists hosts; e.g. https://api.example.com/v1.",
    )
    input_usd_per_mtok = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=4,
        label="USD per 1M input tokens", help_text="Only with a secret of yours.",
    )  # fmt: skip
    output_usd_per_mtok = forms.DecimalField(
        required=False, min_value=0, max_digits=10, decimal_places=4,
        label="USD per 1M output tokens", help_text="Only with a secret of yours.",
    )  # fmt: skip

    def __init__(self, *args: Any, owner: User, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner, self.workspace = owner, workspace
        names = sorted(operator_credentials())
        self.fields["credential"].choices = [("", "None")] + [(n, n) for n in names]
        presets = [(p.name, p.label) for p in catalogue.catalogue().presets]
        self.fields["preset"].choices = [("", "None"), *presets]
        secrets = Secret.objects.in_workspace(workspace).values_list("name", flat=True)
        self.fields["secret"].choices = [("", "None")] + [(n, n) for n in secrets]

    def save(self) -> ModelConfig | None:
        """The saved config, or None with the reasons in the form."""
        if not self.is_valid():
            return None
        data = {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
        if data.get("preset"):
            data.pop("provider", None)  # the preset's
        config = ModelConfig(owner=self.owner, workspace=self.workspace)
        return self.save_or_refuse(
            lambda: save_model_config(config, ModelConfigIn.model_validate(data), self.owner)
        )


class SecretForm(RefusedInto):
    name = forms.CharField(
        max_length=100, help_text="How models and tool headers (secret:NAME) refer to it."
    )
    value = forms.CharField(
        max_length=10_000,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted; never shown again. Saving a name again replaces it.",
    )
    hosts = forms.CharField(
        max_length=2000,
        help_text="The host names it may be sent to, separated by commas: api.example.com",
    )

    def __init__(self, *args: Any, owner: User, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner, self.workspace = owner, workspace

    def save(self) -> Secret | None:
        if not self.is_valid():
            return None
        hosts = [h for h in self.cleaned_data["hosts"].split(",") if h.strip()]
        data = {**self.cleaned_data, "hosts": hosts}
        stored = self.save_or_refuse(
            lambda: store_secret(self.owner, SecretIn.model_validate(data), self.workspace)
        )
        return stored[0] if stored else None


class ConnectModelForm(RefusedInto):
    """The start page's "connect a model": a preset, its model, a key (kept as a secret)."""

    preset = forms.ChoiceField(label="Provider")
    model = forms.CharField(
        max_length=200, help_text="The provider's model name, e.g. gpt-4.1-mini."
    )
    name = forms.CharField(
        max_length=100, label="Name in your teams", help_text="What agents call this model."
    )
    key = forms.CharField(
        required=False,
        max_length=10_000,
        label="API key",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Stored encrypted as a secret, sent only to this provider's host, never shown.",
    )
    base_url = forms.CharField(
        required=False,
        max_length=200,
        label="Base URL",
        help_text="Only for Azure OpenAI (your resource), or a server not at its usual address.",
    )

    def __init__(self, *args: Any, owner: User, workspace: Workspace, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner, self.workspace = owner, workspace
        self.fields["preset"].choices = [(p.name, p.label) for p in catalogue.catalogue().presets]

    def save(self) -> ModelConfig | None:
        if not self.is_valid():
            return None
        data = {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
        return self.save_or_refuse(
            lambda: connect_model(self.owner, self.workspace, ConnectIn.model_validate(data))
        )
