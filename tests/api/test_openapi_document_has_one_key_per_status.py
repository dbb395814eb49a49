"""The OpenAPI document names each answer of an operation once: a status both declared by the
endpoint and added as a common error would appear twice in the JSON, and Swagger UI on
/api/docs refuses such a document ("duplicated mapping key")."""

import json
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_no_object_in_the_document_has_a_key_twice(alice_client: Client) -> None:
    repeated: list[str] = []

    def once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        repeated.extend(key for key in set(keys) if keys.count(key) > 1)
        return dict(pairs)

    response = alice_client.get("/api/openapi.json")
    document = json.loads(response.content, object_pairs_hook=once)
    assert repeated == []
    # the common errors are still there where no endpoint declares them
    assert "429" in document["paths"]["/api/teams"]["get"]["responses"]
