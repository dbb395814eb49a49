"""LLM providers and the registry the engine resolves model names with.

``make_provider(provider="openai"|"anthropic"|"gemini"|"offline", ...)`` builds a provider; ``StaticModelRegistry``
maps ModelConfig names to ``ResolvedModel``s and always knows ``"offline"``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from ..interfaces import (
    DeltaCallback,
    ModelError,
    ModelProvider,
    ModelRequest,
    ModelResponse,
    ResolvedModel,
)
from .offline import OfflineProvider

#: The providers ``make_provider`` knows.
PROVIDERS = ("openai", "anthropic", "gemini", "offline")
_WITH_CONNECTIONS = ("openai_provider", "anthropic_provider", "gemini_provider")

OFFLINE = ResolvedModel(name="offline", provider=OfflineProvider(), model="offline", simulated=True)


def make_provider(
    provider: str,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    **limits: Any,
) -> ModelProvider:
    """``limits`` go to the provider: ``network`` (a ``NetworkPolicy``), ``key_hosts``,
    ``max_answer_bytes``, ``max_answer_s``. Each provider's SDK is imported when first used."""
    if provider == "offline":
        return OfflineProvider()
    kind: Any
    if provider == "openai":
        from .openai_provider import OpenAIProvider as kind
    elif provider == "anthropic":
        from .anthropic_provider import AnthropicProvider as kind
    elif provider == "gemini":
        from .gemini_provider import GeminiProvider as kind
    else:
        raise ValueError(f"Unknown model provider {provider!r}: use one of {', '.join(PROVIDERS)}.")
    return kind(  # type: ignore[no-any-return]
        model=model or "", base_url=base_url, api_key=api_key, timeout_s=timeout_s, **limits
    )


class UnavailableProvider:
    """A configured model that cannot be called (no credential, a key bound elsewhere): every
    call fails, final, with ``reason``, which says what to do."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    async def complete(
        self, request: ModelRequest, on_delta: DeltaCallback | None = None
    ) -> ModelResponse:
        raise ModelError(self.reason, transient=False)


async def close_providers() -> None:
    """Close the connections every provider made in this process holds on the running loop
    (before that loop ends)."""
    for name in _WITH_CONNECTIONS:
        module = sys.modules.get(f"{__name__}.{name}")
        if module is not None:
            await module.close_all()


class StaticModelRegistry:
    """Implements ``interfaces.ModelRegistry`` over a fixed mapping."""

    def __init__(self, models: Mapping[str, ResolvedModel] | None = None) -> None:
        self._models = {"offline": OFFLINE, **(models or {})}

    def get(self, name: str) -> ResolvedModel:
        try:
            return self._models[name]
        except KeyError:
            known = ", ".join(sorted(self._models))
            raise KeyError(
                f"No model named {name!r} is configured. Add a model with that name, "
                f"or pick one of: {known}."
            ) from None


__all__ = [
    "OFFLINE",
    "PROVIDERS",
    "OfflineProvider",
    "StaticModelRegistry",
    "UnavailableProvider",
    "close_providers",
    "make_provider",
]
