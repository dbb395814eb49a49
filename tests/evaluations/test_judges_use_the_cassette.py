"""A judge's model calls go through the experiment's cassette like its runs' (a real Celery
worker, PostgreSQL, a private Redis and the local OpenAI-compatible server): recorded with
them, replayed for nothing with the same verdicts, and a judge request the cassette lacks
fails that judge's score with the reason (``on_miss: fail``) or is called live (``live``)."""

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from evaluations.models import CassetteEntry
from tests.evaluations.test_cassettes import SPEC, items
from tests.evaluations.test_experiments_on_celery import finished, post
from tests.factories import make_model_config, make_team, make_user
from tests.runs.helpers import logged_in
from tests.runs.live import PrivateRedis, start_worker
from tests.support.openai_server import ChatRequest, Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

# The test server's credential with prices, so that a judge's live call costs something.
PRICED = json.dumps(
    {"test-server": {"key_env": "SCRIPTED_KEY", "hosts": ["127.0.0.1"],
                     "input_usd_per_mtok": 2, "output_usd_per_mtok": 8}}
)  # fmt: skip


def judging(request: ChatRequest) -> bool:
    return "You grade the output" in request.system


def verdict(request: ChatRequest) -> Reply:
    # A verdict of its own for each case, so equal verdicts are the recorded ones.
    task = json.loads(request.user)["input"]["task"]
    number = int(task.split()[-1])
    return Reply.json({"score": number / 4, "reason": f"Graded {task}."}, usage=(1000, 500))


def experiment(client: Client, team: int, dataset: int, rubric: str, cassette: Any) -> Any:
    """An experiment of the team scored by ``contains`` and a judge with ``rubric``, run to its
    end: what ``GET /api/experiments/{id}`` says, and its items by task."""
    scorers = [{"kind": "contains"}, {"kind": "judge", "model": "grader", "rubric": rubric}]
    body = {"team_id": team, "dataset_id": dataset, "scorers": scorers, "concurrency": 3,
            "cassette": cassette}  # fmt: skip
    started = post(client, "/api/experiments", body)
    assert started.status_code == 201, started.content
    read = finished(client, started.json()["id"])
    return read, items(client, read["id"])


def alice_with_a_team(base_url: str) -> tuple[Client, int, int]:
    alice = make_user()
    make_model_config(alice, base_url)  # the team's model, "scripted"
    make_model_config(alice, base_url, name="grader")  # the judge's
    team = make_team(alice, SPEC)
    client = logged_in(alice)
    cases = [{"input": {"task": f"case {i}"}, "expected": f"case {i}"} for i in range(1, 4)]
    dataset = post(client, "/api/datasets", {"name": "Cases", "items": cases}).json()
    return client, team.id, dataset["id"]


def verdicts(found: dict[str, dict[str, Any]]) -> dict[str, tuple[float, str]]:
    return {k: (v["scores"]["judge"]["score"], v["scores"]["judge"]["reason"]) for k, v in found.items()}  # fmt: skip


async def test_a_judge_is_recorded_replayed_for_nothing_and_a_miss_fails_or_goes_live(
    openai_server: Any, stack: PrivateRedis
) -> None:
    openai_server.on(judging, verdict)
    openai_server.on(lambda r: True, lambda r: Reply.text(f"answered {r.user}"))
    worker = await asyncio.to_thread(
        start_worker, stack, "first", EXPERIMENT_POLL_S="0.3", MODEL_CREDENTIALS=PRICED
    )
    try:
        client, team, dataset = await sync_to_async(alice_with_a_team)(openai_server.base_url)
        run = sync_to_async(experiment)
        # The recording: three items and three verdicts reach the server, and all are kept.
        first, was = await run(client, team, dataset, "Right?", {"record": True})
        assert first["progress"] == {**first["progress"], "done": 3, "failed": 0}
        assert len([r for r in openai_server.completed() if judging(r)]) == 3
        calls = len(openai_server.completed())
        assert calls == 6
        cassette = first["cassette"]["record"]
        assert await CassetteEntry.objects.filter(cassette_id=cassette).acount() == 6
        assert verdicts(was) == {f"case {i}": (i / 4, f"Graded case {i}.") for i in range(1, 4)}
        # Each live verdict cost 1000 tokens in at 2 USD and 500 out at 8 USD per million.
        assert all(v["scores"]["judge"]["cost_usd"] == pytest.approx(0.006) for v in was.values())

        # The replay: not one call, items or judge, and the same verdicts, for nothing.
        replay = {"replay": first["id"], "on_miss": "fail"}
        second, now = await run(client, team, dataset, "Right?", replay)
        assert len(openai_server.completed()) == calls
        assert second["progress"] == {**second["progress"], "done": 3, "failed": 0}
        assert verdicts(now) == verdicts(was)
        for item in now.values():
            judged = item["scores"]["judge"]
            assert (judged["cost_usd"], judged["input_tokens"], judged["output_tokens"]) == (
                0,
                0,
                0,
            )
            assert item["cost_usd"] == 0 and item["input_tokens"] == 0
        assert second["cost_usd"] == 0

        # A changed rubric is a request the cassette lacks: with on_miss fail, each judge
        # says so and calls nothing; the runs replay and the other scorer still scores.
        third, missed = await run(client, team, dataset, "Right and polite?", replay)
        assert third["status"] == "finished"
        assert len(openai_server.completed()) == calls
        assert third["progress"] == {**third["progress"], "done": 3, "failed": 0}
        for task, item in missed.items():
            judged = item["scores"]["judge"]
            assert judged["score"] == 0.0
            assert f"not in cassette {cassette}" in judged["reason"], judged["reason"]
            assert '"on_miss": "live"' in judged["reason"]
            assert item["scores"]["contains"] == was[task]["scores"]["contains"]
            assert item["scores"]["contains"]["score"] == 1.0

        # With on_miss live, only the judges are called: the runs still replay.
        live = {"replay": first["id"], "on_miss": "live"}
        fourth, scored = await run(client, team, dataset, "Right and polite?", live)
        judged_live = openai_server.completed()[calls:]
        assert len(judged_live) == 3 and all(judging(r) for r in judged_live)
        assert all("Right and polite?" in r.user for r in judged_live)
        assert fourth["progress"] == {**fourth["progress"], "done": 3, "failed": 0}
        assert verdicts(scored) == verdicts(was)
    finally:
        worker.stop()
