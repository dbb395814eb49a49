"""Experiments on real Celery worker processes (PostgreSQL, a private Redis): every item is a
normal run of the team with its audit trail, scored when it ends; a worker killed with -9
mid-experiment loses no item and starts none twice; a cancelled experiment starts nothing."""

import asyncio
import json
import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from evaluations.models import Experiment, ExperimentItem
from runs.models import Run
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import assert_sound_trail, logged_in, until
from tests.runs.live import PrivateRedis, Worker, start_worker
from tests.support.openai_server import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def experiment_of(
    spec: dict[str, Any],
    n: int,
    scorers: list[dict[str, Any]],
    concurrency: int,
    base_url: str | None = None,
) -> tuple[Client, int]:
    """Alice's team, a dataset of ``n`` cases "case <i>" (even ones expect their own text,
    odd ones a word no answer holds), and an experiment of it started through the API."""
    alice = make_user()
    if base_url:
        make_model_config(alice, base_url)
    team = make_team(alice, spec)
    client = logged_in(alice)
    items = [
        {"input": {"task": f"case {i}"}, "expected": f"case {i}" if i % 2 == 0 else "absent"}
        for i in range(n)
    ]
    dataset = post(client, "/api/datasets", {"name": "Cases", "items": items}).json()
    body = {
        "team_id": team.id,
        "dataset_id": dataset["id"],
        "scorers": scorers,
        "concurrency": concurrency,
    }
    started = post(client, "/api/experiments", body)
    assert started.status_code == 201, started.content
    return client, started.json()["id"]


def finished(client: Client, experiment_id: int, within_s: float = 180) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        read = client.get(f"/api/experiments/{experiment_id}").json()
        if read["status"] != "running":
            return read
        time.sleep(0.5)
    raise AssertionError(f"still running: {read['progress']}")


SCORERS = [
    {"kind": "contains", "name": "mentions"},
    {"kind": "regex", "pattern": r"case \d+"},
    {"kind": "exact"},
]


def independent_scores(output: Any, expected: str) -> dict[str, float]:
    text = output if isinstance(output, str) else json.dumps(output)
    return {
        "mentions": float(expected.lower() in text.lower()),
        "regex": float(re.search(r"case \d+", text) is not None),
        "exact": float(text.strip() == expected),
    }


async def test_fifty_items_on_the_offline_model_complete_with_the_scores_computed_here(
    stack: PrivateRedis,
) -> None:
    worker = await asyncio.to_thread(start_worker, stack, "first", EXPERIMENT_POLL_S="0.3")
    try:
        client, experiment_id = await sync_to_async(experiment_of)(minimal_spec(), 50, SCORERS, 10)
        read = await sync_to_async(finished)(client, experiment_id)
    finally:
        worker.stop()
    assert read["status"] == "finished"
    assert read["progress"]["done"] == read["progress"]["total"] == 50
    assert read["progress"]["failed"] == 0
    items = await sync_to_async(
        lambda: client.get(f"/api/experiments/{experiment_id}/items").json()
    )()
    runs = {
        str(r.id): r async for r in Run.objects.filter(started_by=f"experiment:{experiment_id}")
    }
    assert len(runs) == 50 and all(r.status == "succeeded" for r in runs.values())
    for item in items:
        run = runs[item["run_id"]]
        assert item["output"] == run.output
        assert item["input"] == run.input  # each item ran as a normal run of its input
        want = independent_scores(run.output, item["expected"])
        assert {k: v["score"] for k, v in item["scores"].items()} == want, item
        assert all(v["reason"] for v in item["scores"].values())
        assert item["latency_s"] is not None and item["input_tokens"] > 0
    # Even cases mention their own text (the offline model echoes the input): 25 of 50.
    assert read["summary"]["mentions"]["mean"] == 0.5
    assert read["summary"]["mentions"]["low"] < 0.5 < read["summary"]["mentions"]["high"]
    assert read["summary"]["regex"] == {"mean": 1.0, "low": 1.0, "high": 1.0}
    await sync_to_async(assert_sound_trail)(next(iter(runs.values())))


async def test_a_worker_killed_mid_experiment_loses_no_item_and_repeats_none(
    openai_server: Any, stack: PrivateRedis
) -> None:
    openai_server.on(lambda r: True, Reply.text("case answered", delay_s=0.4))
    spec = minimal_spec(
        nodes=[
            {
                "kind": "agent",
                "id": "lead",
                "name": "Lead",
                "instructions": "Answer.",
                "model": "scripted",
            }
        ]
    )
    worker = await asyncio.to_thread(start_worker, stack, "first", EXPERIMENT_POLL_S="0.3")
    client, experiment_id = await sync_to_async(experiment_of)(
        spec, 12, [{"kind": "contains", "text": "answered"}], 3, openai_server.base_url
    )

    # Some items are scored and others in flight: kill -9.
    done = ExperimentItem.objects.filter(experiment_id=experiment_id, status="done")
    await until(lambda: len(openai_server.completed()) >= 4, within_s=60)
    worker.kill_hard()
    scored_before = {i.item_id: i.run_id async for i in done}
    assert 0 < len(scored_before) < 12

    replacement = await asyncio.to_thread(start_worker, stack, "second", EXPERIMENT_POLL_S="0.3")
    try:
        read = await sync_to_async(finished)(client, experiment_id)
    finally:
        replacement.stop()
    assert read["status"] == "finished"
    assert read["progress"]["done"] == 12 and read["progress"]["failed"] == 0
    assert read["summary"]["contains"]["mean"] == 1.0
    # No item started twice: one run per item, and the items scored before kept their run.
    runs = [r async for r in Run.objects.filter(started_by=f"experiment:{experiment_id}")]
    assert len(runs) == 12 and all(r.status == "succeeded" for r in runs)
    after = {i.item_id: i.run_id async for i in done}
    assert all(after[item] == run for item, run in scored_before.items())


async def test_a_cancelled_experiment_starts_no_more_items(
    stack: PrivateRedis, worker: Worker
) -> None:
    client, experiment_id = await sync_to_async(experiment_of)(minimal_spec(), 40, SCORERS[:1], 2)
    done = ExperimentItem.objects.filter(experiment_id=experiment_id, status="done")
    while await done.acount() < 2:
        await asyncio.sleep(0.2)
    cancelled = await sync_to_async(post)(client, f"/api/experiments/{experiment_id}/cancel", {})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    started = await Run.objects.filter(started_by=f"experiment:{experiment_id}").acount()
    await asyncio.sleep(3)
    assert (
        await Run.objects.filter(started_by=f"experiment:{experiment_id}").acount() == started < 40
    )
    assert (await Experiment.objects.aget(pk=experiment_id)).status == "cancelled"
    read = await sync_to_async(lambda: client.get(f"/api/experiments/{experiment_id}").json())()
    assert (
        read["progress"]["done"] >= 2
        and read["progress"]["cancelled"] == 40 - read["progress"]["done"]
    )
