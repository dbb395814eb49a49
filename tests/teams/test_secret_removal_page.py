"""Removing a secret on the settings page: one a model uses stays, and the page says which
model to change first; an unused one goes, and the page says so."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client

from teams.models import Secret
from tests.factories import make_model_config, make_secret

pytestmark = pytest.mark.django_db


def remove(client: Client, secret: Secret) -> list[str]:
    response = client.post(f"/settings/secrets/{secret.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/settings/secrets/"
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_secret_a_model_uses_stays_and_the_page_names_the_model(
    alice: User, alice_client: Client
) -> None:
    secret = make_secret(alice, "openai")
    make_model_config(alice, "https://api.example.com/v1", "writer", credential="", secret=secret)

    said = remove(alice_client, secret)

    assert said == ["The models writer use this secret; change or remove them first."]
    assert Secret.objects.filter(pk=secret.pk).exists()


def test_an_unused_secret_is_removed_and_the_page_says_so(
    alice: User, alice_client: Client
) -> None:
    secret = make_secret(alice, "spare")

    assert remove(alice_client, secret) == ["Secret “spare” removed."]
    assert not Secret.objects.filter(pk=secret.pk).exists()
