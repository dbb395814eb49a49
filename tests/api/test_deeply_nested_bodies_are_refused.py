"""A JSON body nested 100,000 deep (a few hundred KB) is a clear 422 from every endpoint that
reads JSON, never a 500; the run websocket answers such a message with an error and stays
open."""

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from orchestration_site.asgi import application
from runs.models import Run
from teams.models import Team
from tests.factories import make_run, make_team
from tests.runs.test_run_websocket import session_cookie

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.django_db
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_body_nested_100000_deep_is_a_422(
    alice: User, alice_client: Client, content_type: str
) -> None:
    team = make_team(alice)
    for url in ("/api/teams", f"/api/teams/{team.id}/runs", "/api/teams/validate"):
        response = alice_client.post(url, DEEP, content_type=content_type)
        assert response.status_code == 422, url
        [problem] = response.json()["problems"]
        assert problem["code"] == "too_deep"
    assert Team.objects.count() == 1 and Run.objects.count() == 0


@pytest.mark.django_db(transaction=True)
async def test_the_websocket_answers_a_deep_message_with_an_error(alice: Any) -> None:
    run = await sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    cookie = await sync_to_async(session_cookie)(alice)
    socket = WebsocketCommunicator(
        application, f"/ws/runs/{run.id}/", headers=[(b"cookie", cookie)]
    )
    assert (await socket.connect())[0]
    await socket.send_to(text_data=DEEP)
    assert (await socket.receive_json_from(timeout=5))["type"] == "error"
    # still open, and a proper subscription works
    await socket.send_json_to({"type": "subscribe", "after_seq": 0})
    await socket.send_to(text_data="not json at all")
    assert (await socket.receive_json_from(timeout=5))["type"] == "error"
    await socket.disconnect()
