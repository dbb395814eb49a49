"""A model's answer is untrusted text: one with a NUL character (which PostgreSQL holds in
neither text nor jsonb) or nested absurdly deep still ends its run, with an output every API
can read, on the real run shell. Both left the run unrecorded: the first stayed running, the
second crashed (or, nested 300 levels, ended with an output no API answer could serialise)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in, start, wait_for_status
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.RUN_EXECUTOR = "thread"
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")


def a_run_answered_by(server: Any, schema: dict[str, Any] | None) -> tuple[Any, str]:
    """Alice's one-agent team on the scripted server, started; her client and the run id."""
    alice = make_user()
    make_model_config(alice, server.base_url)
    lead: dict[str, Any] = {"kind": "agent", "id": "lead", "name": "Lead", "model": "scripted"}
    if schema is not None:
        lead["output_schema"] = schema
    client = logged_in(alice)
    return client, start(client, make_team(alice, minimal_spec(nodes=[lead])).id, "go")


@pytest.mark.parametrize(
    "answer, schema, output",
    [
        ("Total: 5\x00 euros", None, "Total: 5\ufffd euros"),
        (json.dumps({"answer": "a\x00b"}), {"type": "object"}, {"answer": "a\ufffdb"}),
    ],
)
async def test_a_nul_in_the_answer_is_replaced_and_the_run_ends(
    openai_server: Any, answer: str, schema: Any, output: Any
) -> None:
    openai_server.on(lambda r: True, Reply.text(answer))
    client, run_id = await sync_to_async(a_run_answered_by)(openai_server, schema)

    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed", within_s=30)

    assert (run.status, run.output) == ("succeeded", output)
    read = await sync_to_async(client.get)(f"/api/runs/{run_id}")
    assert read.status_code == 200 and read.json()["output"] == output


async def test_an_answer_nested_too_deep_fails_the_run_readably(openai_server: Any) -> None:
    openai_server.on(lambda r: True, Reply.text('{"a": ' + "[" * 300 + "]" * 300 + "}"))
    client, run_id = await sync_to_async(a_run_answered_by)(openai_server, {"type": "object"})

    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed", within_s=30)

    assert run.status == "failed" and "nested more than 64 levels" in run.failure_reason
    assert (await sync_to_async(client.get)(f"/api/runs/{run_id}")).status_code == 200
