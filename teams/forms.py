from django import forms
from django.contrib.auth.models import User

from .models import ModelConfig, Team


class TeamCreateForm(forms.Form):
    name = forms.CharField(max_length=200, label="Team name")
    pattern = forms.ChoiceField(
        choices=Team.Pattern.choices,
        help_text="How the agents work together; a nested team can use another pattern.",
    )


class TeamRenameForm(forms.Form):
    name = forms.CharField(max_length=200, label="New name")


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, label="Token name", help_text="What will use it, e.g. 'CI' or 'laptop'."
    )


class ModelConfigForm(forms.ModelForm):
    base_url = forms.URLField(
        required=False,
        assume_scheme="https",
        label="Base URL",
        help_text="Empty means the provider's default; e.g. http://localhost:11434/v1 for Ollama.",
    )

    class Meta:
        model = ModelConfig
        fields = [
            "name",
            "provider",
            "model",
            "base_url",
            "api_key_env",
            "input_usd_per_mtok",
            "output_usd_per_mtok",
        ]
        labels = {
            "api_key_env": "Environment variable holding the API key",
            "input_usd_per_mtok": "USD per 1M input tokens",
            "output_usd_per_mtok": "USD per 1M output tokens",
        }

    def __init__(self, *args: object, owner: User, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.instance.owner = owner

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        if name == "offline":
            raise forms.ValidationError("'offline' is the built-in simulator; choose another name.")
        owner = self.instance.owner
        if ModelConfig.objects.filter(owner=owner, name=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("You already have a model with this name.")
        return name
