"""What the worker does with a model's key when a run calls it: a secret goes only to its hosts
(checked again at send time, whatever the database says), no key reaches the run's events or
its failure reason, a model whose old key variable could not be moved fails with a clear
reason, a user's base URL cannot reach a private address, and an operator credential's prices
are what the run costs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from runs.models import Run, RunEvent
from teams.credentials import parse_operator_credentials
from teams.models import ModelConfig
from tests.factories import make_model_config, make_secret, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in, start, wait_for_status
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

VALUE = "sk-alice-0123456789-secret-value"


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_ENGINE_OPTIONS = {"retry_base_s": 0.01, "retry_cap_s": 0.05}
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")


def one_agent_run(config: ModelConfig) -> str:
    """Starts a run of the config owner's one-agent team on ``config``; returns its id."""
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "model": config.name}
    team = make_team(config.owner, minimal_spec(nodes=[lead]))
    return start(logged_in(config.owner), team.id, "go")


def finished(run_id: str) -> tuple[Run, str]:
    """The run once it ended, and everything it recorded (events and reason) as text."""
    run = wait_for_status(run_id, "succeeded", "failed")
    events = RunEvent.objects.filter(run=run).values_list("payload", flat=True)
    return run, json.dumps(list(events)) + (run.failure_reason or "")


async def test_a_secret_is_not_sent_to_a_host_it_is_not_bound_to(openai_server: Any) -> None:
    def stored_before_the_rules() -> ModelConfig:
        # A row the save-time check never saw (written by hand, or before the check existed).
        alice = make_user()
        secret = make_secret(alice, "mine", VALUE, "api.example.com")
        return ModelConfig.objects.create(
            owner=alice, name="m", provider="openai", model="m", secret=secret,
            base_url=openai_server.base_url,
        )  # fmt: skip

    config = await sync_to_async(stored_before_the_rules)()
    run, recorded = await sync_to_async(finished)(await sync_to_async(one_agent_run)(config))
    assert run.status == "failed"
    assert "may only be sent to api.example.com" in run.failure_reason
    assert openai_server.log == [] and VALUE not in recorded


async def test_a_key_echoed_by_the_server_never_reaches_events_or_the_reason(
    openai_server: Any, settings: Any
) -> None:
    # The user's own server on the LAN, which the operator allows; it echoes what it got.
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]

    def echo(request: Any) -> Reply:
        echoed = {"error": {"message": f"key {request.api_key} refused; headers {request.headers}"}}
        return Reply.stream(f"data: {json.dumps(echoed)}\n\n")

    openai_server.on(lambda r: True, echo)

    def with_a_secret() -> ModelConfig:
        alice = make_user()
        secret = make_secret(alice, "mine", VALUE, "127.0.0.1")
        return ModelConfig.objects.create(
            owner=alice, name="m", provider="openai", model="m", secret=secret,
            base_url=openai_server.base_url,
        )  # fmt: skip

    config = await sync_to_async(with_a_secret)()
    run, recorded = await sync_to_async(finished)(await sync_to_async(one_agent_run)(config))
    assert run.status == "failed" and openai_server.log[0].api_key == VALUE
    assert "refused" in run.failure_reason
    assert VALUE not in recorded and "0123456789" not in recorded


async def test_a_model_that_still_needs_a_credential_fails_with_what_to_do(
    openai_server: Any,
) -> None:
    def migrated() -> ModelConfig:
        config = make_model_config(make_user(), openai_server.base_url, credential="")
        config.needs_credential = True
        config.save()
        return config

    config = await sync_to_async(migrated)()
    run, _ = await sync_to_async(finished)(await sync_to_async(one_agent_run)(config))
    assert run.status == "failed"
    assert "choose a credential or a secret" in run.failure_reason
    assert openai_server.log == []


async def test_a_users_base_url_cannot_reach_a_private_address(openai_server: Any) -> None:
    def keyless_at_loopback() -> ModelConfig:
        return ModelConfig.objects.create(
            owner=make_user(), name="m", provider="openai", model="m",
            base_url=openai_server.base_url,
        )  # fmt: skip

    config = await sync_to_async(keyless_at_loopback)()
    run, _ = await sync_to_async(finished)(await sync_to_async(one_agent_run)(config))
    assert run.status == "failed" and "loopback" in run.failure_reason
    assert openai_server.log == []


async def test_a_run_costs_what_the_operator_credential_says(
    openai_server: Any, settings: Any
) -> None:
    settings.MODEL_CREDENTIALS = parse_operator_credentials(
        json.dumps(
            {
                "test-server": {
                    "key_env": "SCRIPTED_KEY",
                    "hosts": ["127.0.0.1"],
                    "input_usd_per_mtok": 2,
                    "output_usd_per_mtok": 8,
                }
            }
        )
    )
    openai_server.on(lambda r: True, Reply.text("done", usage=(1_000_000, 500_000)))

    def priced_by_the_user() -> ModelConfig:
        # Prices written on the row (as before) are not what the operator's key costs.
        return make_model_config(make_user(), openai_server.base_url, input_usd_per_mtok=0)

    config = await sync_to_async(priced_by_the_user)()
    run, _ = await sync_to_async(finished)(await sync_to_async(one_agent_run)(config))
    assert run.status == "succeeded", run.failure_reason
    assert openai_server.log[0].api_key == "sk-test"
    assert float(run.cost_usd) == pytest.approx(2 + 4)
