"""An experiment's progress over its websocket, with real Celery worker processes and a live
daphne (PostgreSQL, a private Redis): a watcher gets the progress as items are scored, each
message no older than the last, at most a few a second, and one last message with the
summary the API gives when it ends, after which the server closes; a cancelled experiment's
watchers are told too. The server's quiet-time poll is set to a minute here, so what moves
the watcher is the workers' notices, not the poll."""

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from evaluations.models import Experiment, ExperimentItem
from teams.models import ApiToken
from tests.evaluations.test_experiments_on_celery import SCORERS, experiment_of, post
from tests.factories import minimal_spec
from tests.runs.live import PrivateRedis, Worker, daphne
from tests.support.openai_server import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

INTERVAL_S = 0.5
ITEMS = 16


@pytest.fixture
async def ws_url(stack: PrivateRedis) -> AsyncIterator[str]:
    with daphne(stack, RUN_WATCH_POLL_S="60", EXPERIMENT_WATCH_INTERVAL_S=str(INTERVAL_S)) as url:
        yield url


@sync_to_async
def token_of_owner(experiment_id: int) -> str:
    """An API token of the person who started the experiment."""
    return ApiToken.issue(Experiment.objects.get(pk=experiment_id).owner, "watcher")[1]


async def watch(url: str, experiment_id: int, token: str) -> tuple[list[Any], list[float], Any]:
    """Every message until the server closes, when each came, and the close code."""
    received: list[Any] = []
    at: list[float] = []
    headers = [("Authorization", f"Bearer {token}")]
    async with connect(f"{url}/ws/experiments/{experiment_id}/", additional_headers=headers) as ws:
        try:
            while True:
                received.append(json.loads(await asyncio.wait_for(ws.recv(), 60)))
                at.append(time.monotonic())
        except ConnectionClosed:
            pass
        return received, at, ws.close_code


def scripted_team() -> dict[str, Any]:
    """One agent on the local OpenAI-compatible server."""
    lead = {"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Answer.",
            "model": "scripted"}  # fmt: skip
    return minimal_spec(nodes=[lead])


async def test_a_watcher_gets_the_progress_as_items_are_scored_and_the_summary_at_the_end(
    openai_server: Any, ws_url: str, worker: Worker
) -> None:
    # Each answer takes a quarter of a second: the experiment takes a few seconds.
    openai_server.on(lambda r: True, Reply.text("case answered", delay_s=0.25))
    scorers = [{"kind": "contains", "text": "answered"}, {"kind": "exact"}]
    client, experiment_id = await sync_to_async(experiment_of)(
        scripted_team(), ITEMS, scorers, 2, openai_server.base_url
    )
    token = await token_of_owner(experiment_id)
    received, at, code = await watch(ws_url, experiment_id, token)
    read = await sync_to_async(lambda: client.get(f"/api/experiments/{experiment_id}").json())()

    # It moved live: several messages while items were scored, never going back.
    progress = [m for m in received if m["type"] == "progress"]
    done = [m["progress"]["done"] for m in received]
    assert len({d for d in done if 0 < d < ITEMS}) >= 3, (done, [b - at[0] for b in at])
    assert done == sorted(done)
    assert all(m["progress"]["total"] == ITEMS and m["status"] == "running" for m in progress)
    # The running means of the items scored so far: every answer contains it, none is exact.
    scored = [m for m in progress if m["progress"]["done"]]
    assert scored and all(m["means"] == {"contains": 1.0, "exact": 0.0} for m in scored), scored
    # Coalesced: at most one message an interval (with a little slack for timers).
    gaps = [b - a for a, b in itertools.pairwise(at)]
    assert min(gaps) > INTERVAL_S * 0.8, gaps

    # The last says it ended, with what the API says, and the server closed normally.
    last = received[-1]
    assert last["type"] == "ended" and last["status"] == "finished" == read["status"]
    assert last["progress"] == read["progress"] and last["progress"]["done"] == ITEMS
    assert last["summary"] == read["summary"]
    assert last["means"] == {name: s["mean"] for name, s in read["summary"].items()}
    assert last["cost_usd"] == read["cost_usd"]
    assert code == 1000


async def test_the_watchers_of_a_cancelled_experiment_are_told_it_ended(
    ws_url: str, worker: Worker
) -> None:
    client, experiment_id = await sync_to_async(experiment_of)(minimal_spec(), 60, SCORERS[:1], 1)
    token = await token_of_owner(experiment_id)
    watching = asyncio.create_task(watch(ws_url, experiment_id, token))
    done = ExperimentItem.objects.filter(experiment_id=experiment_id, status="done")
    while await done.acount() < 2:
        await asyncio.sleep(0.2)
    await sync_to_async(post)(client, f"/api/experiments/{experiment_id}/cancel", {})
    received, _, code = await asyncio.wait_for(watching, 30)
    last = received[-1]
    assert last["type"] == "ended" and last["status"] == "cancelled"
    assert last["progress"]["cancelled"] == 60 - last["progress"]["done"] > 0
    assert code == 1000
