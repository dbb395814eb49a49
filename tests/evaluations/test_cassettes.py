"""Cassettes on a real Celery worker (PostgreSQL, a private Redis) and the local OpenAI-compatible
server: an experiment records its model answers; one replaying them makes no model call; a
request the cassette lacks fails its item (``on_miss: fail``) or is called live and recorded
(``on_miss: live``); a replay streams the chunks the recording got; and no workspace replays
another's cassette."""

import asyncio
import hashlib
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evaluations.actions import do_advance
from evaluations.cassettes import CassetteProvider, Tape, request_key, wrap_models
from evaluations.models import Cassette, CassetteEntry, Experiment
from runs.engine.interfaces import ChatMessage, ModelRequest
from runs.engine.models import make_provider
from runs.models import Run
from runs.wiring import model_registries
from teams.services import create_team
from teams.spec import parse
from tests.engine.helpers import LOCAL
from tests.evaluations.test_experiments_on_celery import finished, post
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in
from tests.runs.live import PrivateRedis, start_worker
from tests.support.openai_server import Reply, ScriptedOpenAIServer
from workspaces.models import Membership, Workspace

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(300),
]

SPEC = minimal_spec(
    nodes=[{"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Answer.",
            "model": "scripted"}]
)  # fmt: skip
SCORERS = [{"kind": "contains"}]


def cases(n: int) -> list[dict[str, Any]]:
    return [{"input": {"task": f"case {i}"}, "expected": f"case {i}"} for i in range(n)]


def start(client: Client, team_id: int, dataset_id: int, cassette: dict[str, Any]) -> int:
    body = {"team_id": team_id, "dataset_id": dataset_id, "scorers": SCORERS,
            "concurrency": 3, "cassette": cassette}  # fmt: skip
    started = post(client, "/api/experiments", body)
    assert started.status_code == 201, started.content
    return int(started.json()["id"])


def items(client: Client, experiment_id: int) -> dict[Any, dict[str, Any]]:
    found = client.get(f"/api/experiments/{experiment_id}/items").json()
    return {i["input"]["task"]: i for i in found}


def alice_with_a_team(base_url: str) -> tuple[Client, int, int]:
    alice = make_user()
    make_model_config(alice, base_url)
    team = make_team(alice, SPEC)
    client = logged_in(alice)
    dataset = post(client, "/api/datasets", {"name": "Cases", "items": cases(4)}).json()
    return client, team.id, dataset["id"]


async def test_a_replay_makes_no_model_call_and_a_miss_fails_or_goes_live(
    openai_server: Any, stack: PrivateRedis
) -> None:
    openai_server.on(lambda r: True, lambda r: Reply.text(f"answered {r.user}"))
    worker = await asyncio.to_thread(start_worker, stack, "first", EXPERIMENT_POLL_S="0.3")
    try:
        client, team_id, dataset_id = await sync_to_async(alice_with_a_team)(openai_server.base_url)
        # The recording: every item's one model call reaches the server and is kept.
        recorded = await sync_to_async(start)(client, team_id, dataset_id, {"record": True})
        first = await sync_to_async(finished)(client, recorded)
        assert first["progress"] == {**first["progress"], "done": 4, "failed": 0}
        assert first["cassette"]["record"] is not None
        calls = len(openai_server.completed())
        assert calls == 4
        assert (
            await CassetteEntry.objects.filter(cassette_id=first["cassette"]["record"]).acount()
            == 4
        )

        # The replay: the same outputs and scores, and not one call more.
        replayed = await sync_to_async(start)(client, team_id, dataset_id, {"replay": recorded})
        second = await sync_to_async(finished)(client, replayed)
        assert len(openai_server.completed()) == calls
        assert second["progress"]["done"] == 4 and second["progress"]["failed"] == 0
        was, now = (
            await sync_to_async(items)(client, recorded),
            await sync_to_async(items)(client, replayed),
        )
        assert {k: v["output"] for k, v in now.items()} == {k: v["output"] for k, v in was.items()}
        assert {k: v["scores"] for k, v in now.items()} == {k: v["scores"] for k, v in was.items()}
        assert all(v["cost_usd"] == 0 and v["input_tokens"] == 0 for v in now.values())

        # A new case is not in the cassette: with on_miss fail, its item fails and says why.
        await sync_to_async(post)(client, f"/api/datasets/{dataset_id}/items",
                                  {"items": [{"input": {"task": "case new"}, "expected": "case new"}]})  # fmt: skip
        strict = await sync_to_async(start)(
            client, team_id, dataset_id, {"replay": recorded, "on_miss": "fail"}
        )
        third = await sync_to_async(finished)(client, strict)
        assert len(openai_server.completed()) == calls
        assert third["progress"]["done"] == 5 and third["progress"]["failed"] == 1
        missed = (await sync_to_async(items)(client, strict))["case new"]
        assert missed["run_status"] == "failed"
        assert "not in cassette" in missed["scores"]["contains"]["reason"]

        # With on_miss live, only that case calls the model; recording keeps all five.
        live = await sync_to_async(start)(
            client, team_id, dataset_id, {"replay": recorded, "on_miss": "live", "record": True}
        )
        fourth = await sync_to_async(finished)(client, live)
        assert len(openai_server.completed()) == calls + 1
        assert fourth["progress"]["done"] == 5 and fourth["progress"]["failed"] == 0
        new = (await sync_to_async(items)(client, live))["case new"]
        assert "case new" in new["output"] and new["scores"]["contains"]["score"] == 1.0
        assert (
            await CassetteEntry.objects.filter(cassette_id=fourth["cassette"]["record"]).acount()
            == 5
        )

        # And that recording replays all five without a call.
        again = await sync_to_async(start)(client, team_id, dataset_id, {"replay": live})
        fifth = await sync_to_async(finished)(client, again)
        assert len(openai_server.completed()) == calls + 1
        assert fifth["progress"]["done"] == 5 and fifth["progress"]["failed"] == 0
    finally:
        worker.stop()
    # Each replayed item is still a whole run with its audit trail.
    assert (
        await Run.objects.filter(started_by=f"experiment:{replayed}", status="succeeded").acount()
        == 4
    )


async def test_a_replay_never_answers_for_another_endpoint(
    openai_server: Any, stack: PrivateRedis
) -> None:
    # Two models of one workspace, same provider and model name, at two endpoints (the
    # staging server and production, say): what one answered must not be replayed as the
    # other's answer, or an experiment scores the wrong endpoint and says nothing.
    other_server = ScriptedOpenAIServer()
    await other_server.start()
    openai_server.on(lambda r: True, lambda r: Reply.text(f"staging: {r.user}"))
    other_server.on(lambda r: True, lambda r: Reply.text(f"production: {r.user}"))
    worker = await asyncio.to_thread(start_worker, stack, "first", EXPERIMENT_POLL_S="0.3")
    try:
        client, staging_team, dataset_id = await sync_to_async(alice_with_a_team)(
            openai_server.base_url
        )
        production_team = await sync_to_async(a_team_on)(other_server.base_url, "production")
        recorded = await sync_to_async(start)(client, staging_team, dataset_id, {"record": True})
        await sync_to_async(finished)(client, recorded)

        replayed = await sync_to_async(start)(
            client, production_team, dataset_id, {"replay": recorded, "on_miss": "live"}
        )
        await sync_to_async(finished)(client, replayed)

        outputs = [i["output"] for i in (await sync_to_async(items)(client, replayed)).values()]
        assert len(other_server.completed()) == 4
        assert all(output.startswith("production: ") for output in outputs), outputs
    finally:
        worker.stop()
        await other_server.stop()


def a_team_on(base_url: str, name: str) -> int:
    """Alice's team whose one agent uses the model ``name``: ``test-model`` at ``base_url``."""
    alice = User.objects.get(username="alice")
    make_model_config(alice, base_url, name=name)
    spec = minimal_spec(
        nodes=[{"kind": "agent", "id": "lead", "name": "Lead", "instructions": "Answer.",
                "model": name}],
    )  # fmt: skip
    return int(make_team(alice, spec).id)


async def test_a_replay_streams_the_chunks_the_recording_got(openai_server: Any) -> None:
    openai_server.on(lambda r: True, Reply.text("A streamed answer of some length.", chunk_chars=5))
    alice = await sync_to_async(make_user)()
    cassette = await sync_to_async(Cassette.objects.create)(
        workspace=await sync_to_async(lambda: alice.memberships.get().workspace)()
    )
    model = make_provider(
        "openai", model="test-model", base_url=openai_server.base_url, api_key="k", network=LOCAL
    )
    request = ModelRequest("test-model", [ChatMessage("user", "Hello")], activity_key="a/model")
    heard: list[list[str]] = [[], []]

    recording = CassetteProvider(model, "openai", Tape(None, "fail", cassette.pk))
    got = await recording.complete(request, lambda c: _append(heard[0], c))
    replaying = CassetteProvider(model, "openai", Tape(cassette.pk, "fail", None))
    # The same request from another place in another run: the key is the request's, not its place.
    elsewhere = ModelRequest(
        "test-model", [ChatMessage("user", "Hello")], activity_key="b/model", attempt=2
    )
    again = await replaying.complete(elsewhere, lambda c: _append(heard[1], c))

    assert len(openai_server.completed()) == 1
    assert len(heard[0]) > 1 and heard[1] == heard[0]
    assert again.content == got.content == "A streamed answer of some length."
    assert request_key("openai", request) == request_key("openai", elsewhere)
    assert request_key("openai", request) != request_key("anthropic", request)


async def _append(into: list[str], chunk: str) -> None:
    into.append(chunk)


@pytest.mark.django_db  # no commit: nothing is executed
def test_no_workspace_replays_another_workspaces_cassette() -> None:
    # Alice recorded a cassette in her workspace.
    alice, bob = make_user(), make_user("bob")
    team = make_team(alice, minimal_spec())
    alice_client = logged_in(alice)
    dataset = post(alice_client, "/api/datasets", {"name": "Cases", "items": cases(1)}).json()
    recorded = start(alice_client, team.id, dataset["id"], {"record": True})
    cassette = Experiment.objects.get(pk=recorded).recording_id

    # Bob, in his own workspace, cannot name it: as for nothing there.
    bob_team = make_team(bob, minimal_spec())
    bob_client = logged_in(bob)
    bob_data = post(bob_client, "/api/datasets", {"name": "Mine", "items": cases(1)}).json()
    for cassette_ref in ({"replay": recorded}, {"replay_cassette": cassette}):
        body = {"team_id": bob_team.id, "dataset_id": bob_data["id"], "scorers": SCORERS,
                "cassette": cassette_ref}  # fmt: skip
        refused = post(bob_client, "/api/experiments", body)
        assert refused.status_code == 404, refused.content
        assert "not found" in refused.json()["detail"]

    # Bob makes Alice an owner of a workspace of his: she may read both, and still the
    # workspace's experiment may not replay her personal workspace's answers.
    shared = Workspace.objects.create(slug="shared", name="Shared", created_by=bob)
    Membership.objects.create(workspace=shared, user=alice, role="owner")
    shared_team, _ = create_team(alice, parse(minimal_spec()), workspace=shared)
    shared_data = post(alice_client, "/api/datasets",
                       {"name": "Shared", "workspace": "shared", "items": cases(1)}).json()  # fmt: skip
    body = {"team_id": shared_team.id, "dataset_id": shared_data["id"], "scorers": SCORERS,
            "cassette": {"replay": recorded}}  # fmt: skip
    refused = post(alice_client, "/api/experiments", body)
    assert refused.status_code == 422, refused.content
    assert "another workspace" in refused.json()["detail"]
    assert Experiment.objects.filter(workspace=shared).count() == 0


def test_the_key_names_the_endpoint_except_the_providers_default() -> None:
    request = ModelRequest("test-model", [ChatMessage("user", "Hello")], temperature=0.2)
    staging = request_key("openai", request, "http://staging.example/v1")
    assert staging != request_key("openai", request, "http://production.example/v1")
    assert staging == request_key("openai", request, "http://staging.example/v1/")
    # A request to the provider's default endpoint keeps the key recordings were made under
    # before endpoints were keyed, so those cassettes still replay.
    before = {"provider": "openai", "model": "test-model",
              "messages": [{"role": "user", "content": "Hello", "tool_calls": [],
                            "tool_call_id": None, "name": None}],
              "tools": [], "output_schema": None, "temperature": 0.2}  # fmt: skip
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert request_key("openai", request, "") == hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.django_db  # no commit: nothing is executed
def test_runs_are_wrapped_only_for_an_experiment_with_a_cassette() -> None:
    alice = make_user()
    team = make_team(alice, minimal_spec())
    client = logged_in(alice)
    dataset = post(client, "/api/datasets", {"name": "Cases", "items": cases(2)}).json()
    plain = start(client, team.id, dataset["id"], {})
    recording = start(client, team.id, dataset["id"], {"record": True})
    for experiment in (plain, recording):
        do_advance(experiment)
    runs = list(Run.objects.filter(started_by__startswith="experiment:"))
    registries = model_registries([runs[0].workspace_id])
    wrapped = {r.id for r in runs if r.started_by == f"experiment:{recording}"}

    assert set(wrap_models(runs, registries)) == wrapped
    # Once seen to have no cassette, an experiment's runs are claimed without a query (it
    # never gains one); the recording one's are still wrapped, looked up each time.
    plain_runs = [r for r in runs if r.id not in wrapped]
    with CaptureQueriesContext(connection) as queries:
        assert wrap_models(plain_runs, registries) == {}
    assert not queries.captured_queries
    assert set(wrap_models(runs, registries)) == wrapped
    # A cassette deleted: the experiment that recorded into it wraps nothing any more.
    Cassette.objects.filter(recorded_by=recording).delete()
    assert wrap_models(runs, registries) == {}
