"""A model's structured answer is untrusted text, and Python's JSON parser reads NaN,
Infinity and 1e999 in it, which jsonb stores none of: such an answer (a model talked into it
by its input, say) must still end its run, with an output every API can read."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.runs.helpers import wait_for_status
from tests.runs.test_model_answers_the_database_cannot_hold import a_run_answered_by, on_a_thread
from tests.support.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)

__all__ = ["on_a_thread"]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-1e999"])
async def test_a_structured_answer_with_a_number_json_cannot_hold_ends_the_run(
    openai_server: Any, number: str
) -> None:
    openai_server.on(lambda r: True, Reply.text('{"total": ' + number + "}"))
    client, run_id = await sync_to_async(a_run_answered_by)(openai_server, {"type": "object"})

    run = await sync_to_async(wait_for_status)(run_id, "succeeded", "failed", within_s=30)

    # It ends, with the number as text, and its audit trail verifies.
    written = {"NaN": "NaN", "Infinity": "Infinity", "-1e999": "-Infinity"}[number]
    assert (run.status, run.output) == ("succeeded", {"total": written})
    read = await sync_to_async(client.get)(f"/api/runs/{run_id}")
    assert read.status_code == 200 and read.json()["output"] == {"total": written}
    verified = await sync_to_async(client.get)(f"/api/runs/{run_id}/verify")
    assert verified.json()["ok"] is True, verified.json()
