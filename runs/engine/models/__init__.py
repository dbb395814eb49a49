"""LLM providers and the registry the engine resolves model names with.

``make_provider(provider="openai"|"offline", ...)`` builds a provider; ``StaticModelRegistry``
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

OFFLINE = ResolvedModel(name="offline", provider=OfflineProvider(), model="offline", simulated=True)


def make_provider(
    provider: str,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    timeout_s: float = 120.0,
    **limits: Any,
) -> ModelProvider:
    """``limits`` go to the provider that takes them: for ``openai``, ``network`` (a
    ``NetworkPolicy``), ``key_hosts``, ``max_answer_bytes``, ``max_answer_s``."""
    if provider == "offline":
        return OfflineProvider()
    if provider == "openai":
        from .openai_provider import OpenAIProvider

        return OpenAIProvider(
            model=model or "", base_url=base_url, api_key=api_key, timeout_s=timeout_s, **limits
        )
    raise ValueError(f"Unknown model provider {provider!r}: use 'openai' or 'offline'.")


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
    (before that loop ends). Only the ``openai`` provider has any."""
    module = sys.modules.get(f"{__name__}.openai_provider")
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
    "OfflineProvider",
    "StaticModelRegistry",
    "UnavailableProvider",
    "close_providers",
    "make_provider",
]
