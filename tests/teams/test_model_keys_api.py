"""/api/models, /api/credentials and /api/secrets as an attacker uses them: no way to name an
environment variable, no re-pointing or pricing an operator credential, a secret only for its
hosts, no secret value in any response or page, nobody else's objects."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from teams.credentials import parse_operator_credentials
from teams.models import ModelConfig, Secret
from tests.factories import make_secret, make_user

pytestmark = pytest.mark.django_db

VALUE = "sk-proj-alice-0123456789-very-secret"


def send(client: Client, method: str, url: str, body: Any) -> Any:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def refused_at(response: Any, field: str) -> str:
    assert response.status_code == 422, response.content
    [problem] = response.json()["problems"]
    assert problem["path"] == field, problem
    return problem["message"]


@pytest.fixture
def operator_lends(settings: Any) -> None:
    """The operator lends a fixed-URL OpenAI key with prices, and the tests' local one."""
    settings.MODEL_CREDENTIALS = parse_operator_credentials(
        json.dumps(
            {
                "openai": {
                    "key_env": "OPENAI_API_KEY",
                    "base_url": "https://api.openai.com/v1",
                    "input_usd_per_mtok": 0.15,
                    "output_usd_per_mtok": 0.6,
                },
                "test-server": {"key_env": "SCRIPTED_KEY", "hosts": ["127.0.0.1"]},
            }
        )
    )


def test_a_model_cannot_name_an_environment_variable(alice_client: Client) -> None:
    # The attack from the report: the worker's SECRET_KEY, sent to a listener of mine.
    attack = {
        "name": "gpt", "provider": "openai", "model": "x",
        "base_url": "http://127.0.0.1:9999/v1", "api_key_env": "SECRET_KEY",
    }  # fmt: skip
    message = refused_at(send(alice_client, "post", "/api/models", attack), "api_key_env")
    assert "never name environment variables" in message
    assert not ModelConfig.objects.exists()


def test_the_form_has_no_way_to_name_a_variable(alice: User, alice_client: Client) -> None:
    form = {"name": "gpt", "provider": "openai", "model": "x", "api_key_env": "SECRET_KEY",
            "base_url": "http://127.0.0.1:9999/v1"}  # fmt: skip
    page = alice_client.post("/settings/models/", form).content.decode()
    assert "loopback" in page  # a keyless model at a private address is refused too
    assert not ModelConfig.objects.exists()


@pytest.mark.usefixtures("operator_lends")
def test_an_operator_credential_cannot_be_re_pointed(alice_client: Client) -> None:
    body = {"name": "gpt", "model": "gpt-4o-mini", "credential": "openai",
            "base_url": "https://listener.attacker.example/v1"}  # fmt: skip
    message = refused_at(send(alice_client, "post", "/api/models", body), "base_url")
    assert "only sent to https://api.openai.com/v1" in message
    local = {"name": "local", "model": "m", "credential": "test-server",
             "base_url": "https://listener.attacker.example/v1"}  # fmt: skip
    message = refused_at(send(alice_client, "post", "/api/models", local), "base_url")
    assert "may only be sent to 127.0.0.1" in message
    assert not ModelConfig.objects.exists()


@pytest.mark.usefixtures("operator_lends")
def test_a_user_cannot_price_an_operator_credential(alice_client: Client) -> None:
    body = {"name": "gpt", "model": "gpt-4o-mini", "credential": "openai",
            "input_usd_per_mtok": 0, "output_usd_per_mtok": 0}  # fmt: skip
    message = refused_at(send(alice_client, "post", "/api/models", body), "input_usd_per_mtok")
    assert "Prices come from the operator's credential openai" in message
    # Without prices it is saved, and costs what the operator says.
    del body["input_usd_per_mtok"], body["output_usd_per_mtok"]
    created = send(alice_client, "post", "/api/models", body)
    assert created.status_code == 201, created.content
    model = created.json()
    assert model["base_url"] == "https://api.openai.com/v1"
    assert (model["input_usd_per_mtok"], model["output_usd_per_mtok"]) == (0.15, 0.6)


@pytest.mark.usefixtures("operator_lends")
def test_credentials_list_where_they_go_and_cost_never_the_key_or_variable(
    alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", VALUE)
    listed = alice_client.get("/api/credentials")
    assert listed.status_code == 200
    assert {c["name"] for c in listed.json()} == {"openai", "test-server"}
    assert VALUE not in listed.content.decode() and "OPENAI_API_KEY" not in listed.content.decode()


def test_a_secret_is_write_only(alice: User, alice_client: Client) -> None:
    body = {"name": "openrouter", "value": VALUE, "hosts": ["openrouter.ai"]}
    created = send(alice_client, "post", "/api/secrets", body)
    assert created.status_code == 201, created.content
    assert created.json()["hosts"] == ["openrouter.ai"] and "value" not in created.json()
    listed = alice_client.get("/api/secrets")
    # Encrypted at rest, never in a response or a page.
    assert VALUE not in Secret.objects.get().ciphertext
    for response in (created, listed, alice_client.get("/settings/secrets/")):
        assert VALUE not in response.content.decode()
    # The same name again replaces the value and the hosts.
    again = send(alice_client, "post", "/api/secrets", body | {"hosts": ["api.example.com"]})
    assert again.status_code == 200 and Secret.objects.get().hosts == ["api.example.com"]


def test_a_secret_bound_to_one_host_is_refused_for_another(alice: User, alice_client: Client):
    make_secret(alice, "mine", VALUE, "api.example.com")
    body = {"name": "m", "model": "m", "secret": "mine",
            "base_url": "https://listener.attacker.example/v1"}  # fmt: skip
    message = refused_at(send(alice_client, "post", "/api/models", body), "base_url")
    assert "may only be sent to api.example.com" in message
    ok = send(
        alice_client, "post", "/api/models", body | {"base_url": "https://api.example.com/v1"}
    )
    assert ok.status_code == 201 and ok.json()["secret"] == "mine"
    # Re-binding the secret away from the host a model uses is refused as well.
    rebind = {"name": "mine", "value": VALUE, "hosts": ["listener.attacker.example"]}
    assert refused_at(send(alice_client, "post", "/api/secrets", rebind), "hosts")
    # And a model in use keeps its secret.
    secret_id = Secret.objects.get().pk
    assert alice_client.delete(f"/api/secrets/{secret_id}").status_code == 409


def test_a_secret_is_never_sent_to_a_private_address(alice: User, alice_client: Client) -> None:
    make_secret(alice, "local", VALUE, "127.0.0.1")
    body = {"name": "m", "model": "m", "secret": "local", "base_url": "http://127.0.0.1:9/v1"}
    assert "loopback" in refused_at(send(alice_client, "post", "/api/models", body), "base_url")


def test_another_users_secret_and_models_are_not_found(alice: User, alice_client: Client):
    bob = make_user("bob")
    bobs_secret = make_secret(bob, "bobs", VALUE, "api.example.com")
    bobs_model = ModelConfig.objects.create(owner=bob, name="b", provider="openai", model="m")
    assert alice_client.delete(f"/api/secrets/{bobs_secret.pk}").status_code == 404
    for method in ("get", "delete"):
        assert getattr(alice_client, method)(f"/api/models/{bobs_model.pk}").status_code == 404
    body = {"name": "b", "model": "m"}
    assert send(alice_client, "put", f"/api/models/{bobs_model.pk}", body).status_code == 404
    # Nor can alice use bob's secret by its name.
    use = {"name": "x", "model": "m", "secret": "bobs", "base_url": "https://api.example.com/v1"}
    assert "no secret named bobs" in refused_at(
        send(alice_client, "post", "/api/models", use), "secret"
    )
    assert alice_client.get("/api/secrets").json() == []
    assert (
        Secret.objects.filter(owner=bob).exists() and ModelConfig.objects.filter(owner=bob).exists()
    )


@pytest.mark.usefixtures("operator_lends")
def test_models_are_created_read_updated_and_deleted(alice_client: Client) -> None:
    body = {"name": "local", "model": "m", "credential": "test-server",
            "base_url": "http://127.0.0.1:8001/v1"}  # fmt: skip
    created = send(alice_client, "post", "/api/models", body)
    assert created.status_code == 201, created.content
    model_id = created.json()["id"]
    names = [m["name"] for m in alice_client.get("/api/models").json()]
    assert names == ["offline", "local"]
    changed = send(alice_client, "put", f"/api/models/{model_id}", body | {"model": "m2"})
    assert changed.status_code == 200 and changed.json()["model"] == "m2"
    assert alice_client.get(f"/api/models/{model_id}").json()["credential"] == "test-server"
    taken = send(alice_client, "post", "/api/models", body)
    assert "already has a model" in refused_at(taken, "name")
    assert alice_client.delete(f"/api/models/{model_id}").status_code == 204
    assert not ModelConfig.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "offline", "model": "m"}, "name"),
        ({"name": "x", "model": "m", "credential": "nope"}, "credential"),
        ({"name": "x", "model": "m", "base_url": "file:///etc/passwd"}, "base_url"),
        ({"name": "x", "model": "m", "base_url": "http://[::1"}, "base_url"),
        ({"name": "x", "model": "m", "input_usd_per_mtok": -1}, "input_usd_per_mtok"),
        ({"name": "x", "model": "m", "provider": "cohere"}, "provider"),
        ({"name": "x", "model": "m", "provider": "offline", "secret": "s"}, "provider"),
    ],
)
def test_bad_models_are_a_located_422(alice_client: Client, body: dict, field: str) -> None:
    refused_at(send(alice_client, "post", "/api/models", body), field)
    assert not ModelConfig.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "s", "value": "v", "hosts": []}, "hosts"),
        ({"name": "s", "value": "v", "hosts": ["https://api.example.com/v1"]}, "hosts"),
        ({"name": "s", "value": "", "hosts": ["api.example.com"]}, "value"),
        ({"name": "has space", "value": "v", "hosts": ["api.example.com"]}, "name"),
    ],
)
def test_bad_secrets_are_a_located_422_that_never_echoes_the_value(
    alice_client: Client, body: dict, field: str
) -> None:
    body = body | {"value": body["value"] and VALUE}
    response = send(alice_client, "post", "/api/secrets", body)
    refused_at(response, field)
    assert VALUE not in response.content.decode() and not Secret.objects.exists()


def test_the_secrets_page_adds_and_removes_and_never_shows_a_value(
    alice: User, alice_client: Client
) -> None:
    form = {"name": "search", "value": VALUE, "hosts": "api.search.example, other.example"}
    assert alice_client.post("/settings/secrets/", form).status_code == 302
    secret = Secret.objects.get(owner=alice)
    assert secret.hosts == ["api.search.example", "other.example"] and secret.value() == VALUE
    page = alice_client.get("/settings/secrets/").content.decode()
    assert "api.search.example" in page and VALUE not in page
    # A refused form comes back without the value typed into it.
    refused = alice_client.post("/settings/secrets/", form | {"hosts": "https://x/"})
    assert refused.status_code == 200 and VALUE not in refused.content.decode()
    assert alice_client.post(f"/settings/secrets/{secret.pk}/delete/").status_code == 302
    assert not Secret.objects.exists()


def test_nobody_removes_another_users_secret_from_the_page(alice_client: Client) -> None:
    bobs = make_secret(make_user("bob"), "bobs", VALUE)
    assert alice_client.post(f"/settings/secrets/{bobs.pk}/delete/").status_code == 404
    assert Secret.objects.filter(pk=bobs.pk).exists()
