"""A model's calls are paced at its provider's published tier-1 limits (from the catalogue,
with their source and date) when the operator's credential sets none; the operator's limits
win; a gateway or a local server with the same model name is not paced by them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runs.engine.models import catalogue
from runs.wiring import resolved
from teams.credentials import parse_operator_credentials
from teams.models import ModelConfig
from tests.factories import make_secret

pytestmark = pytest.mark.django_db


def limiter(config: ModelConfig) -> Any:
    rate_limit = resolved(config).rate_limit
    assert rate_limit is not None
    return rate_limit


def credentials(settings: Any, **limits: int) -> None:
    raw = {"claude-main": {"preset": "anthropic", "key_env": "ANTHROPIC_TEST_KEY", **limits}}
    settings.MODEL_CREDENTIALS = parse_operator_credentials(json.dumps(raw))


def test_the_catalogue_carries_tier_one_limits_with_their_source_and_date() -> None:
    book = catalogue.catalogue()
    assert "tier-1" in book.rate_limits_source and "anthropic.com" in book.rate_limits_source
    assert book.rate_limits_as_of == "2025-11-30"
    sonnet = catalogue.entry("anthropic", "claude-sonnet-4-5-20250929")
    assert sonnet is not None and (sonnet.rpm, sonnet.tpm) == (50, 30_000)
    flash = catalogue.entry("gemini", "gemini-2.5-flash")
    assert flash is not None and flash.rpm == 1000


def test_a_credential_without_limits_is_paced_at_the_published_ones(alice, settings) -> None:
    credentials(settings)
    config = ModelConfig.objects.create(owner=alice, name="claude", provider="anthropic",
                                        model="claude-sonnet-4-5", credential="claude-main")  # fmt: skip

    rate_limit = limiter(config)

    assert (rate_limit.limit.rpm, rate_limit.limit.tpm) == (50, 30_000)
    # The providers count per model: so does the limiter.
    assert rate_limit.name == "credential:claude-main:model:claude-sonnet-4-5"


def test_the_operators_limits_win(alice, settings) -> None:
    credentials(settings, rpm=4000)
    config = ModelConfig.objects.create(owner=alice, name="claude", provider="anthropic",
                                        model="claude-sonnet-4-5", credential="claude-main")  # fmt: skip

    rate_limit = limiter(config)

    assert (rate_limit.limit.rpm, rate_limit.limit.tpm) == (4000, None)
    assert rate_limit.name == "credential:claude-main"


def test_a_users_own_key_at_the_providers_api_is_paced_too(alice) -> None:
    secret = make_secret(alice, "mine", "sk-0123456789abcdef", "api.openai.com")
    config = ModelConfig.objects.create(owner=alice, name="gpt", provider="openai",
                                        model="gpt-4o-mini", secret=secret)  # fmt: skip

    assert (limiter(config).limit.rpm, limiter(config).limit.tpm) == (500, 200_000)


@pytest.mark.parametrize(
    ("base_url", "model"),
    [
        ("https://openrouter.ai/api/v1", "gpt-4o-mini"),  # a gateway has its own limits
        ("http://127.0.0.1:8000/v1", "gpt-4o-mini"),  # a local server has none
        ("", "a-model-nobody-catalogued"),
    ],
)
def test_other_servers_and_unknown_models_are_not_paced(alice, base_url, model) -> None:
    host = (base_url.split("/")[2].split(":")[0]) if base_url else "api.openai.com"
    secret = make_secret(alice, "mine", "sk-0123456789abcdef", host)
    config = ModelConfig.objects.create(owner=alice, name="m", provider="openai", model=model,
                                        base_url=base_url, secret=secret)  # fmt: skip

    assert (limiter(config).limit.rpm, limiter(config).limit.tpm) == (None, None)
