"""Migration 0005 moves model configs and custom tools off environment variables, losing
nothing: a key variable the operator lends becomes that credential, any other is kept as a
model that needs a credential, env: tool headers become secret references, and the operator is
told what could not move. Run on a database filled by the old schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from teams.credentials import parse_operator_credentials
from tests.support.migrating import migrate, schema_at

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("teams", "0003_teamtemplate")]


@pytest.fixture
def old_schema() -> Iterator[Any]:
    """The apps as they were before credentials (``schema_at``)."""
    with schema_at(BEFORE) as apps:
        yield apps


def test_old_model_configs_and_tools_move_to_credentials_and_secrets(
    old_schema: Any, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.MODEL_CREDENTIALS = parse_operator_credentials(
        json.dumps(
            {
                "openai": {"key_env": "OPENAI_API_KEY", "base_url": "https://api.openai.com/v1"},
                "lan": {"key_env": "LAN_KEY", "hosts": ["llm.internal"]},
            }
        )
    )
    user_model = old_schema.get_model("auth", "User")
    ModelConfig = old_schema.get_model("teams", "ModelConfig")
    CustomTool = old_schema.get_model("teams", "CustomTool")
    alice = user_model.objects.create(username="alice")
    mallory = user_model.objects.create(username="mallory")
    for owner, name, base_url, variable in [
        (alice, "gpt", "", "OPENAI_API_KEY"),
        (alice, "lan", "http://llm.internal:8000/v1", "LAN_KEY"),
        (alice, "ollama", "http://localhost:11434/v1", ""),
        (mallory, "steal", "http://listener.example/v1", "SECRET_KEY"),
    ]:
        ModelConfig.objects.create(
            owner=owner, name=name, provider="openai", model="m", base_url=base_url,
            api_key_env=variable, input_usd_per_mtok=0,
        )  # fmt: skip
    CustomTool.objects.create(
        owner=alice, name="orders", description="d", url="https://shop.example.com/o",
        headers={"Authorization": "env:SHOP_TOKEN", "X-Client": "us"},
    )  # fmt: skip

    new = migrate([("teams", "0006_remove_modelconfig_api_key_env")])

    configs = {c.name: c for c in new.get_model("teams", "ModelConfig").objects.all()}
    assert set(configs) == {"gpt", "lan", "ollama", "steal"}  # nothing lost
    assert (configs["gpt"].credential, configs["gpt"].base_url) == ("openai", "")
    assert (configs["lan"].credential, configs["lan"].base_url) == (
        "lan",
        "http://llm.internal:8000/v1",
    )
    assert configs["ollama"].credential == "" and not configs["ollama"].needs_credential
    # The worker's SECRET_KEY is no credential: the model is kept, but cannot run as it was.
    assert configs["steal"].credential == "" and configs["steal"].needs_credential
    assert configs["steal"].base_url == "http://listener.example/v1"
    tool = new.get_model("teams", "CustomTool").objects.get()
    assert tool.headers == {"Authorization": "secret:SHOP_TOKEN", "X-Client": "us"}

    told = capsys.readouterr().out
    assert "mallory's model 'steal': its key variable SECRET_KEY is not a credential" in told
    assert "alice's tool 'orders'" in told and "bound to shop.example.com" in told
    assert "'gpt'" not in told and "'lan'" not in told  # moved as they were: nothing to tell
