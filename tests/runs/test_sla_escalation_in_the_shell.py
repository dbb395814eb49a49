"""A run that waits for a person past its service level is woken at the deadline, handed to
the team's escalation agent, and the team's webhooks that asked for escalations are told, with
a signed delivery saying who took the work over."""

import json
from collections.abc import Iterator
from typing import Any

import pytest

from runs import wakes
from runs.models import RunEvent
from tests.factories import expert_question_spec, make_team, make_user
from tests.ops.helpers import http_receiver, wait_until
from tests.runs.helpers import assert_sound_trail, logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread_that_wakes_runs(settings: Any) -> Iterator[None]:
    settings.RUN_EXECUTOR = "thread"
    settings.RUN_WAKE_SWEEP_S = 60  # the wake comes from the due time, not a periodic sweep
    settings.TOOLS_ALLOWED_PRIVATE_NETWORKS = ["127.0.0.1"]  # the receiver is on loopback
    wakes.start()
    yield
    wakes.stop()


def escalating_team() -> dict[str, Any]:
    spec = expert_question_spec(timeout_s=3600)  # the expert alone would be waited for an hour
    spec["nodes"].append({"kind": "agent", "id": "closer", "name": "Closer"})
    spec["sla"] = {"escalations": [{"hand_to": "closer", "notify_webhooks": True}]}
    return spec


def test_a_waiting_run_is_escalated_at_its_deadline_and_the_webhook_is_told() -> None:
    alice = make_user()
    client = logged_in(alice)
    team = make_team(alice, escalating_team())
    with http_receiver([200]) as receiver:
        hook = {"url": f"{receiver.url}/sla", "events": ["escalated"]}
        response = client.post(
            f"/api/teams/{team.id}/webhooks", hook, content_type="application/json"
        )
        assert response.status_code == 201, response.content

        task = {"question": "Q3 figures", "priority": "urgent", "sla": {"urgent": 1}}
        run_id = start(client, team.id, task)
        waiting = wait_for_status(run_id, "waiting", "failed", "succeeded")
        assert waiting.status == "waiting" and waiting.wake_at is not None

        # Nobody answers: at the deadline the closer takes the run over and finishes it.
        run = wait_for_status(run_id, "succeeded", "failed", within_s=30)
        wait_until(lambda: receiver.requests, "the webhook to be told")

    assert run.status == "succeeded", run.failure_reason
    types = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert types.count("sla.breached") == types.count("sla.escalated") == 1
    escalated = RunEvent.objects.get(run=run, type="sla.escalated")
    assert escalated.payload["hand_to"] == "closer"
    assert assert_sound_trail(run)[-1].type == "run.finished"
    # One delivery, of the escalation only (the hook did not ask for "finished").
    (request,) = receiver.requests
    body = json.loads(request.body)
    assert (
        body["type"] == "run.escalated"
        and request.headers["X-Orchestrator-Event"] == "run.escalated"
    )
    assert body["run"]["id"] == run_id
    assert body["escalation"]["hand_to_name"] == "Closer"
    assert body["escalation"]["priority"] == "urgent"
