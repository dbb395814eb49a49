"""The model catalogue (``catalogue.json``): what the common models of each provider cost and
can do, and the presets of the ``openai`` provider (where OpenAI, Azure OpenAI, OpenRouter,
Ollama and vLLM listen, and what differs).

The file is read and checked once per process. ``entry(provider, model)`` finds a model's entry
(prices, context window, capabilities, and the provider's published tier-1 ``rpm``/``tpm``),
a dated version (``claude-sonnet-4-5-20250929``) taking its family's; ``preset(name)`` a preset.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

PATH = Path(__file__).with_name("catalogue.json")
Usd = float


class Entry(BaseModel):
    """One model: USD per 1M tokens, the context window in tokens, what it can do."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Literal["openai", "anthropic", "gemini", "offline"]
    model: str
    input: Usd = Field(ge=0)
    output: Usd = Field(ge=0)
    cached_input: Usd | None = Field(None, ge=0)
    cache_write: Usd | None = Field(None, ge=0)
    context_window: int = Field(gt=0)
    tools: bool
    structured_output: bool
    vision: bool
    # The provider's published tier-1 limits; pace a credential that sets none of its own.
    rpm: int | None = Field(None, ge=1)
    tpm: int | None = Field(None, ge=1)

    def public(self) -> dict[str, Any]:
        return self.model_dump()

    def capabilities(self) -> dict[str, Any]:
        return {
            "tools": self.tools,
            "structured_output": self.structured_output,
            "vision": self.vision,
            "context_window": self.context_window,
        }


class Preset(BaseModel):
    """Where a kind of server listens and what to know about it; ``{resource}`` in a base URL
    is the part the user fills in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9-]+$")
    label: str
    provider: Literal["openai", "anthropic", "gemini"]
    base_url: str = Field(pattern=r"^https?://")
    key: Literal["required", "optional", "none"]
    notes: str

    @property
    def needs_filling(self) -> bool:
        return "{" in self.base_url


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    about: str
    source: str
    as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    rate_limits_source: str
    rate_limits_as_of: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    notes: list[str]
    models: list[Entry]
    presets: list[Preset]

    def entry(self, provider: str, model: str) -> Entry | None:
        """The entry for ``model``, or for the longest catalogued name it extends with '-'."""
        best: Entry | None = None
        for candidate in self.models:
            if candidate.provider != provider:
                continue
            if candidate.model == model:
                return candidate
            if model.startswith(candidate.model + "-") and (
                best is None or len(candidate.model) > len(best.model)
            ):
                best = candidate
        return best

    def preset(self, name: str) -> Preset | None:
        return next((p for p in self.presets if p.name == name), None)

    def published_limit(self, provider: str, model: str, base_url: str) -> Entry | None:
        """The entry whose tier-1 ``rpm``/``tpm`` hold for ``model`` called at ``base_url``
        (empty: the provider's default): only the provider's own API (its preset's host) has
        the limits it publishes; a gateway or a local server in front of the same model name
        has its own."""
        found = self.entry(provider, model)
        own = self.preset(provider)
        if found is None or own is None or (found.rpm is None and found.tpm is None):
            return None
        if base_url and urlsplit(base_url).hostname != urlsplit(own.base_url).hostname:
            return None
        return found

    def public(self) -> dict[str, Any]:
        return self.model_dump()


@functools.cache
def catalogue() -> Catalogue:
    return Catalogue.model_validate_json(PATH.read_bytes())


def entry(provider: str, model: str) -> Entry | None:
    return catalogue().entry(provider, model)


def preset(name: str) -> Preset | None:
    return catalogue().preset(name)


def published_limit(provider: str, model: str, base_url: str) -> Entry | None:
    return catalogue().published_limit(provider, model, base_url)


def preset_names() -> list[str]:
    return [p.name for p in catalogue().presets]
