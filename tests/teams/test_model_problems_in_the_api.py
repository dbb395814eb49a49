"""The model checks run where every other check does: validating or saving a team through the
API reports, on the agent, tools given to a model the catalogue says cannot call them (a
warning) and a fallback model that is not configured (an error that blocks saving)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from runs.engine.models import catalogue
from teams.models import ModelConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def text_only_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The real catalogue plus one model that cannot call tools (none of today's lacks them)."""
    document = json.loads(catalogue.PATH.read_text())
    document["models"].append({"provider": "openai", "model": "text-only", "input": 1.0,
                               "output": 2.0, "context_window": 8192, "tools": False,
                               "structured_output": False, "vision": False})  # fmt: skip
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(document))
    monkeypatch.setattr(catalogue, "PATH", path)
    catalogue.catalogue.cache_clear()
    yield "text-only"
    catalogue.catalogue.cache_clear()


def team(**agent: Any) -> dict[str, Any]:
    node = {"kind": "agent", "id": "writer", "name": "Writer", **agent}
    return {"pattern": "supervisor", "entry": "writer", "nodes": [node], "edges": []}


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_tools_on_a_model_that_cannot_call_them_are_a_located_warning(
    alice: Any, alice_client: Client, text_only_model: str
) -> None:
    ModelConfig.objects.create(owner=alice, name="plain", provider="openai", model=text_only_model)
    spec = team(model="plain", tools=["calculator"], instructions="Use the calculator.")

    body = post(alice_client, "/api/teams/validate", spec).json()

    assert body["valid"] is True  # a warning never blocks
    [problem] = [p for p in body["problems"] if p["code"] == "model_without_tools"]
    assert (problem["severity"], problem["node"], problem["path"]) == (
        "warning", "writer", "nodes.0.tools",
    )  # fmt: skip
    assert "cannot call tools" in problem["message"]
    saved = post(alice_client, "/api/teams", {"name": "Plain", "spec": spec})
    assert saved.status_code == 201, saved.content


def test_the_same_tools_on_a_model_that_can_call_them_are_not_warned_about(
    alice: Any, alice_client: Client, text_only_model: str
) -> None:
    ModelConfig.objects.create(owner=alice, name="mini", provider="openai", model="gpt-4.1-mini")
    spec = team(model="mini", tools=["calculator"], instructions="Use the calculator.")

    body = post(alice_client, "/api/teams/validate", spec).json()

    assert body["problems"] == []


def test_an_unknown_fallback_model_is_a_located_error_and_nothing_is_saved(
    alice: Any, alice_client: Client
) -> None:
    ModelConfig.objects.create(owner=alice, name="backup", provider="openai", model="gpt-5-mini")
    spec = team(model="offline", fallback_models=["backup", "nowhere"])

    response = post(alice_client, "/api/teams", {"name": "Chain", "spec": spec})

    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["severity"], problem["code"], problem["node"], problem["path"]) == (
        "error", "unknown_model", "writer", "nodes.0.fallback_models.1",
    )  # fmt: skip
    assert "'nowhere'" in problem["message"]
    assert alice_client.get("/api/teams").json() == []


def test_someone_elses_model_is_not_a_fallback(alice_client: Client, bob: Any) -> None:
    ModelConfig.objects.create(owner=bob, name="bobs", provider="openai", model="gpt-5-mini")

    body = post(alice_client, "/api/teams/validate", team(fallback_models=["bobs"])).json()

    assert [(p["code"], p["path"]) for p in body["problems"]] == [
        ("unknown_model", "nodes.0.fallback_models.0")
    ]
