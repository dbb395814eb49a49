"""A wait (`?wait=true`, an MCP tool call) on the running site with a real worker answers as
soon as the run finishes or waits for a person: woken by the run's own broadcast, not by a
re-read of the database (those are a minute apart here) nor by the end of the wait."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import httpx
import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from publishing import waits
from publishing.actions import do_publish
from publishing.models import PublicationKey
from runs.models import Run
from tests.factories import approval_pipeline_spec, make_run, make_team, make_user
from tests.runs.test_watchers_leave_no_channel_behind import subscribers
from tests.support.openai_server import Reply, ScriptedOpenAIServer

from .test_mcp_server_runs_a_published_team import published_desk, with_session

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres, pytest.mark.redis]

#: The model takes this long to answer, so the run finishes while the caller waits.
MODEL_S = 2.0
#: Far more than the model takes, far less than the wait and its re-reads.
PROMPTLY_S = MODEL_S + 8


@pytest.fixture(autouse=True)
def slow_rereads(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.PUBLICATION_WAIT_S = 60
    monkeypatch.setattr(waits, "RECHECK_S", 60.0)


def wait_for_run(url: str, slug: str, key: str, body: Any) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = httpx.post(
        f"{url}/p/{slug}/runs?wait=true",
        json={"input": body},
        headers={"Authorization": f"Bearer {key}"},
        timeout=120,
    )
    return response, time.monotonic() - began


def test_a_wait_answers_with_the_output_once_the_run_finishes(
    asgi_server: Any, model_server: ScriptedOpenAIServer
) -> None:
    model_server.on(lambda r: "capital" in r.user, Reply.text("Paris.", delay_s=MODEL_S))
    key = published_desk(model_server)

    response, took = wait_for_run(
        asgi_server.url, "help-desk", key, {"question": "The capital of France?"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "succeeded" and response.json()["output"] == "Paris."
    assert MODEL_S <= took < PROMPTLY_S


def test_a_wait_answers_once_the_run_waits_for_a_person(asgi_server: Any) -> None:
    alice = make_user("alice")
    team = make_team(alice, approval_pipeline_spec())
    publication = do_publish(team, team.version, "drafts", "", alice)
    key = PublicationKey.issue(publication, "cms", alice)[1]

    response, took = wait_for_run(asgi_server.url, "drafts", key, "A note on tides")

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "waiting" and response.json()["finished"] is False
    assert response.json()["waiting_for"] is not None
    assert took < PROMPTLY_S


def test_an_mcp_tool_call_answers_with_the_output_once_the_run_finishes(
    asgi_server: Any, model_server: ScriptedOpenAIServer
) -> None:
    model_server.on(lambda r: "6 * 7" in r.user, Reply.text("42.", delay_s=MODEL_S))
    key = published_desk(model_server)

    async def call(session: Any) -> Any:
        return await session.call_tool("help-desk", {"question": "What is 6 * 7?"})

    began = time.monotonic()
    called = asyncio.run(with_session(asgi_server.url, key, call))
    took = time.monotonic() - began

    assert called.is_error is not True, called.content
    assert called.content[0].text == "42."
    assert MODEL_S <= took < PROMPTLY_S


async def test_a_wait_leaves_no_subscription_behind(alice: Any) -> None:
    run = await database_sync_to_async(make_run)(alice, status=Run.Status.RUNNING)
    layer = get_channel_layer()
    group = layer._get_group_channel_name(run.group_name)
    channels_before = set(layer._get_layer().channels)

    assert (await waits.settled(run, within_s=0.5)).status == Run.Status.RUNNING

    assert await subscribers(os.environ["REDIS_URL"], group) == 0
    await asyncio.sleep(0.1)  # the listener's cancelled receive lets its channel go
    assert set(layer._get_layer().channels) <= channels_before
