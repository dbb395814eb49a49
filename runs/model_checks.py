"""The "test connection" button: one tiny call to a saved model config, with its real key, through the
same destination rules and network guard as a run's calls (a secret only to its hosts, a
user's base URL never into the private network unless the operator allows it). What comes
back is whether it answered and how fast, or the provider's error with the key taken out."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from teams.models import ModelConfig

from .engine.interfaces import ChatMessage, ModelError, ModelRequest
from .engine.models import make_provider
from .engine.models.guard import clean
from .wiring import Unavailable, destination

#: How long the one call may take before the test says the model did not answer.
TIMEOUT_S = 20.0
_PROMPT = "Reply with the word OK."


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    latency_ms: int | None
    message: str


def check_connection(config: ModelConfig) -> ConnectionCheck:
    """One call to ``config``'s model; never raises for what the server or the network did."""
    if config.provider == ModelConfig.Provider.OFFLINE:
        return ConnectionCheck(True, 0, "The offline simulator needs no connection.")
    try:
        base_url, key, network, hosts = destination(config)
    except Unavailable as exc:
        return ConnectionCheck(False, None, f"The model {config.name} cannot be used: {exc}")
    provider = make_provider(
        config.provider, model=config.model, base_url=base_url, api_key=key,
        timeout_s=TIMEOUT_S, network=network, key_hosts=hosts,
        max_answer_bytes=settings.MODEL_ANSWER_MAX_BYTES, max_answer_s=TIMEOUT_S,
    )  # fmt: skip
    started = time.monotonic()
    try:
        asyncio.run(_one_call(provider, config.model))
    except ModelError as exc:
        return ConnectionCheck(False, None, clean(f"The model did not answer: {exc}", key))
    except Exception as exc:  # whatever broke, the person gets a sentence
        name = type(exc).__name__
        return ConnectionCheck(False, None, clean(f"The call failed ({name}): {exc}", key))
    latency = round((time.monotonic() - started) * 1000)
    return ConnectionCheck(True, latency, f"{config.name} answered in {latency} ms.")


async def _one_call(provider: Any, model: str) -> None:
    request = ModelRequest(
        model=model, messages=[ChatMessage(role="user", content=_PROMPT)], timeout_s=TIMEOUT_S
    )
    try:
        await provider.complete(request)
    finally:
        close = getattr(provider, "close", None)
        if close is not None:
            await close()
