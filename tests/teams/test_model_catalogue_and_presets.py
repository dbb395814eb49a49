"""The model catalogue and the presets, as the builder and the operator use them: prices,
context windows and capabilities from one file with its source and date; presets that fill in
a server's provider and base URL but never open the private network; the catalogue's prices
used for cost accounting when nothing else sets any."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from runs.engine.interfaces import Usage
from runs.wiring import resolved
from teams.credentials import CredentialsMisconfigured, parse_operator_credentials
from teams.models import ModelConfig
from tests.factories import make_secret, make_user

pytestmark = pytest.mark.django_db


def send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_the_catalogue_lists_prices_context_and_capabilities_with_its_source(
    alice_client: Client,
) -> None:
    response = alice_client.get("/api/models/catalogue")

    assert response.status_code == 200
    body = response.json()
    assert body["source"].startswith("Transcribed") and body["as_of"]
    by_name = {(m["provider"], m["model"]): m for m in body["models"]}
    assert {p for p, _ in by_name} >= {"openai", "anthropic", "gemini"}
    sonnet = by_name["anthropic", "claude-sonnet-4-5"]
    assert sonnet["input"] > 0 and sonnet["cached_input"] < sonnet["input"]
    assert sonnet["context_window"] == 200_000 and sonnet["tools"] is True
    assert {p["name"] for p in body["presets"]} >= {
        "openai", "azure-openai", "openrouter", "ollama", "vllm",
    }  # fmt: skip


def test_the_catalogue_is_for_signed_in_callers_only(client: Client) -> None:
    assert client.get("/api/models/catalogue").status_code == 401


def test_a_preset_fills_in_the_provider_and_base_url(alice: Any, alice_client: Client) -> None:
    make_secret(alice, "or-key", "sk-or-0123456789", "openrouter.ai")
    body = {"name": "router", "preset": "openrouter", "model": "openai/gpt-4o", "secret": "or-key"}

    response = send(alice_client, "post", "/api/models", body)

    assert response.status_code == 201, response.content
    saved = response.json()
    assert saved["provider"] == "openai" and saved["base_url"] == "https://openrouter.ai/api/v1"


def test_a_native_provider_defaults_to_its_own_api(alice: Any, alice_client: Client) -> None:
    make_secret(alice, "claude-key", "sk-ant-0123456789", "api.anthropic.com")
    body = {"name": "claude", "provider": "anthropic", "model": "claude-sonnet-4-5-20250929",
            "secret": "claude-key"}  # fmt: skip

    response = send(alice_client, "post", "/api/models", body)

    assert response.status_code == 201, response.content
    saved = response.json()
    assert saved["base_url"] == "https://api.anthropic.com"
    # No price given: the catalogue's, found for the dated version of the model.
    assert saved["price_source"] == "catalogue" and saved["input_usd_per_mtok"] == 3.0
    assert saved["capabilities"]["structured_output"] is True


def test_a_preset_never_opens_the_private_network(alice_client: Client) -> None:
    # Ollama's preset points at localhost: still refused unless the operator allows it.
    response = send(alice_client, "post", "/api/models",
                    {"name": "local", "preset": "ollama", "model": "llama3.2"})  # fmt: skip

    assert response.status_code == 422
    assert "base_url" in response.content.decode() and not ModelConfig.objects.exists()


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"preset": "azure-openai"}, "needs a base URL"),
        ({"preset": "nowhere"}, "no preset"),
        ({"preset": "anthropic", "provider": "openai"}, "for the anthropic provider"),
    ],
)
def test_a_preset_that_cannot_apply_is_a_clear_422(
    alice_client: Client, body: dict, says: str
) -> None:
    response = send(alice_client, "post", "/api/models", {"name": "m", "model": "x", **body})

    assert response.status_code == 422 and says in response.content.decode()
    assert not ModelConfig.objects.exists()


def test_an_operator_credential_may_name_a_preset() -> None:
    credentials = parse_operator_credentials(
        json.dumps({"router": {"preset": "openrouter", "key_env": "OPENROUTER_KEY"},
                    "claude": {"preset": "anthropic", "key_env": "ANTHROPIC_KEY"}})
    )  # fmt: skip

    assert credentials["router"].provider == "openai"
    assert credentials["router"].allowed_hosts() == {"openrouter.ai"}
    assert credentials["claude"].provider == "anthropic"
    assert credentials["claude"].base_url == "https://api.anthropic.com"
    with pytest.raises(CredentialsMisconfigured, match="preset"):
        parse_operator_credentials(json.dumps({"x": {"preset": "nowhere", "key_env": "K"}}))


def test_the_catalogue_prices_a_run_when_nothing_else_does() -> None:
    owner = make_user("carol")
    config = ModelConfig.objects.create(owner=owner, name="g", provider="gemini",
                                        model="gemini-2.5-flash")  # fmt: skip
    priced = ModelConfig.objects.create(owner=owner, name="p", provider="gemini",
                                        model="gemini-2.5-flash", input_usd_per_mtok=1,
                                        output_usd_per_mtok=2)  # fmt: skip
    usage = Usage(1_000_000, 1_000_000, cached_input_tokens=500_000)

    # Catalogue: 0.5M at 0.30, 0.5M cached at 0.03, 1M out at 2.50.
    assert resolved(config).cost_usd(usage) == pytest.approx(0.15 + 0.015 + 2.5)
    assert resolved(priced).cost_usd(usage) == pytest.approx(1 + 2)
