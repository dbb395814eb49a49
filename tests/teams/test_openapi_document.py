"""The API describes itself: the OpenAPI document lists every teams endpoint, docs render."""

import json
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_the_openapi_document_lists_the_teams_contract() -> None:
    document = Client().get("/api/openapi.json").json()
    paths = document["paths"]
    assert set(paths["/api/teams"]) == {"get", "post"}
    assert set(paths["/api/teams/{team_id}"]) == {"get", "put", "delete"}
    for path in (
        "/api/teams/{team_id}/versions",
        "/api/teams/{team_id}/versions/{number}",
        "/api/teams/{team_id}/export",
        "/api/models",
    ):
        assert "get" in paths[path], path
    assert "post" in paths["/api/teams/validate"] and "post" in paths["/api/teams/import"]
    schemes = document["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} >= {"http", "apiKey"}


def test_the_interactive_docs_render() -> None:
    assert Client().get("/api/docs").status_code == 200


def test_the_document_describes_the_teamspec_everywhere_it_travels() -> None:
    document = Client().get("/api/openapi.json").json()
    components = document["components"]["schemas"]
    assert {"TeamSpec", "Agent", "Edge", "Gate", "TeamNode"} <= set(components)
    body = document["paths"]["/api/teams/validate"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/TeamSpec"
    }
    # every reference in the document resolves to a component
    text = str(document)
    for name in {part.split("'")[0] for part in text.split("#/components/schemas/")[1:]}:
        assert name in components, name


def no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = {key for key in keys if keys.count(key) > 1}
    assert not repeated, f"keys written twice in one object: {sorted(repeated)}"
    return dict(pairs)


def test_the_document_is_valid_openapi_with_no_key_written_twice() -> None:
    # Read as Swagger UI and client generators read it: a key twice in one object is an error.
    text = Client().get("/api/openapi.json").content.decode()
    document = json.loads(text, object_pairs_hook=no_repeated_keys)
    validate(document)
    # TeamSpec is defined, not a reference to itself (a team nests teams: it is recursive).
    assert {"nodes", "edges", "pattern"} <= set(
        document["components"]["schemas"]["TeamSpec"]["properties"]
    )
    read = document["paths"]["/api/teams/{team_id}"]["get"]["responses"]
    assert {"200", "401", "404", "422"} <= set(read)
    assert read["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"
    }
