"""`POST /api/models/{id}/test` ("test connection"): one tiny call with the model's real key,
through the same rules as a run's calls. The attacks: reaching a private address the operator
did not allow, a server that echoes the key back, hammering the button, and roles that may
not spend a call or store a key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from teams.models import ModelConfig, Secret
from tests.factories import make_secret, make_user
from tests.support.openai_server import Reply
from workspaces.models import Membership

pytestmark = pytest.mark.django_db(transaction=True)

VALUE = "sk-alice-0123456789-secret-value"


def client_of(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def model_at(base_url: str, *, with_key: bool = True) -> ModelConfig:
    """Alice's model at ``base_url`` (a row as the rules would have saved it while the
    operator allowed the address), with her key as a secret bound to 127.0.0.1."""
    alice = make_user()
    secret = make_secret(alice, "mine", VALUE, "127.0.0.1") if with_key else None
    return ModelConfig.objects.create(
        owner=alice, name="mine", provider="openai", model="m", secret=secret, base_url=base_url
    )


async def press_test(config: ModelConfig, user: Any = None) -> Any:
    def press() -> Any:
        return client_of(user or config.owner).post(f"/api/models/{config.pk}/test")

    return await sync_to_async(press)()


async def test_a_model_that_answers_is_ok_with_its_latency(
    openai_server: Any, settings: Any
) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    openai_server.on(lambda r: True, Reply.text("OK"))
    config = await sync_to_async(model_at)(openai_server.base_url)

    response = await press_test(config)

    body = response.json()
    assert response.status_code == 200 and body["ok"] is True
    assert isinstance(body["latency_ms"], int) and "answered in" in body["message"]
    # One tiny call, with the key the secret holds.
    assert len(openai_server.log) == 1 and openai_server.log[0].api_key == VALUE


async def test_a_private_address_is_not_reached_unless_the_operator_allows_it(
    openai_server: Any, settings: Any
) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = []
    config = await sync_to_async(model_at)(openai_server.base_url, with_key=False)

    response = await press_test(config)

    body = response.json()
    assert response.status_code == 200 and body["ok"] is False
    assert "loopback" in body["message"]
    assert openai_server.log == []  # nothing left the server


async def test_a_key_the_server_echoes_back_is_not_in_the_answer(
    openai_server: Any, settings: Any
) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]

    def echo(request: Any) -> Reply:
        return Reply.stream(
            "data: "
            + json.dumps(
                {"error": {"message": f"key {request.api_key} refused ({request.headers})"}}
            )
            + "\n\n"
        )

    openai_server.on(lambda r: True, echo)
    config = await sync_to_async(model_at)(openai_server.base_url)

    response = await press_test(config)

    assert openai_server.log[0].api_key == VALUE  # the server did get and echo it
    text = response.content.decode()
    assert response.json()["ok"] is False and "refused" in text
    assert VALUE not in text and "0123456789" not in text


async def test_the_button_cannot_be_hammered(openai_server: Any, settings: Any) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    settings.QUOTA_MODEL_TESTS = "2/minute"
    openai_server.on(lambda r: True, Reply.text("OK"))
    config = await sync_to_async(model_at)(openai_server.base_url)

    answers = [await press_test(config) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert "connection tests" in answers[2].json()["detail"]
    assert len(openai_server.log) == 2  # the refused one made no call


async def test_runners_and_viewers_may_not_spend_a_call_or_store_a_key(
    openai_server: Any, settings: Any
) -> None:
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]
    openai_server.on(lambda r: True, Reply.text("OK"))
    config = await sync_to_async(model_at)(openai_server.base_url)

    def members() -> list[Any]:
        people = []
        for role in ("runner", "viewer"):
            person = make_user(f"{role}-person")
            Membership.objects.create(workspace=config.workspace, user=person, role=role)
            people.append(person)
        return people

    for person in await sync_to_async(members)():
        response = await press_test(config, person)
        assert (
            response.status_code == 403
            and f"you are {person.username[:-7]}" in response.json()["detail"]
        )

        def connect(person: Any = person) -> Any:
            client = client_of(person)
            client.post("/workspaces/switch/", {"workspace": config.workspace.slug})
            return client.post(
                "/start/connect",
                {"preset": "openai", "model": "gpt-4.1-mini", "name": "stolen", "key": "sk-x"},
            )

        assert (await sync_to_async(connect)()).status_code == 403
    assert openai_server.log == []
    assert await sync_to_async(Secret.objects.filter(name="stolen-key").exists)() is False


async def test_a_stranger_does_not_learn_the_model_exists(openai_server: Any) -> None:
    config = await sync_to_async(model_at)(openai_server.base_url)
    mallory = await sync_to_async(make_user)("mallory")

    response = await press_test(config, mallory)

    assert response.status_code == 404 and openai_server.log == []
