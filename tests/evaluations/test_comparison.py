"""Comparing two experiments: after a change to the team, the comparison names exactly the
items that changed (regressed first, then improved), with both outputs, a diff, each scorer's
mean with a seeded bootstrap interval, and the cost and latency differences. Runs on the
embedded executor (the web process's run loop), which experiments drive too."""

import json
import time
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from evaluations.comparison import interval
from tests.factories import make_model_config, make_team, make_user, minimal_spec
from tests.runs.helpers import logged_in
from tests.support.openai_server import Reply

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(240),
]


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def run_experiment(client: Client, body: dict[str, Any]) -> int:
    started = post(client, "/api/experiments", body)
    assert started.status_code == 201, started.content
    experiment_id = started.json()["id"]
    deadline = time.monotonic() + 120
    while client.get(f"/api/experiments/{experiment_id}").json()["status"] == "running":
        assert time.monotonic() < deadline, "the experiment did not finish"
        time.sleep(0.2)
    return experiment_id


def two_versions(base_url: str) -> tuple[Client, dict[str, Any], int, int]:
    """Version 1 answers offline (it echoes the input); version 2 asks the scripted server,
    which answers "it is answered" to every case."""
    alice = make_user()
    make_model_config(alice, base_url)
    team = make_team(alice, minimal_spec())
    client = logged_in(alice)
    # Even cases expect their own words (the echo has them), odd ones "answered".
    items = [
        {"input": {"task": f"case {i}"}, "expected": f"case {i}" if i % 2 == 0 else "answered"}
        for i in range(8)
    ]
    dataset = post(client, "/api/datasets", {"name": "Cases", "items": items}).json()
    body = {
        "team_id": team.id,
        "dataset_id": dataset["id"],
        "scorers": [{"kind": "contains"}],
        "concurrency": 4,
    }
    first = run_experiment(client, body)
    changed = minimal_spec(
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
    saved = client.put(
        f"/api/teams/{team.id}", json.dumps({"spec": changed}), content_type="application/json"
    )
    assert saved.status_code == 200, saved.content
    second = run_experiment(client, body)
    return client, dataset, first, second


async def test_the_comparison_names_exactly_the_items_that_changed(
    openai_server: Any, monkeypatch: Any, settings: Any
) -> None:
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    settings.EXPERIMENT_POLL_S = 0.2
    settings.RUN_EXECUTOR = "thread"  # the embedded default: runs and experiments on the run loop
    openai_server.on(lambda r: True, Reply.text("it is answered"))
    client, dataset, a, b = await sync_to_async(two_versions, thread_sensitive=False)(
        openai_server.base_url
    )
    read_b = await sync_to_async(lambda: client.get(f"/api/experiments/{b}").json())()
    assert read_b["team_version"] == 2

    response = await sync_to_async(client.get)(f"/api/experiments/compare?a={a}&b={b}")
    assert response.status_code == 200, response.content
    found = response.json()
    items = await sync_to_async(lambda: client.get(f"/api/datasets/{dataset['id']}/items").json())()
    ids = [i["id"] for i in items]
    evens, odds = ids[0::2], ids[1::2]
    assert (found["items"], found["regressed"], found["improved"]) == (8, 4, 4)
    order = [(r["change"], r["item_id"]) for r in found["results"]]
    assert order == [("regressed", i) for i in evens] + [("improved", i) for i in odds]
    first = found["results"][0]
    assert first["b"]["output"] == "it is answered" and "case 0" in first["a"]["output"]
    assert "-" in first["diff"] and "+it is answered" in first["diff"]
    assert (
        first["a"]["scores"]["contains"]["score"] == 1.0
        and first["b"]["scores"]["contains"]["score"] == 0.0
    )
    contains = found["scorers"]["contains"]
    assert contains["a"]["mean"] == contains["b"]["mean"] == 0.5 and contains["difference"] == 0.0
    assert contains["difference_low"] < 0 < contains["difference_high"]
    assert set(found["cost_usd"]) == set(found["latency_s"]) == {"a", "b", "difference"}
    # Seeded: the same request gives the same intervals.
    again = (await sync_to_async(client.get)(f"/api/experiments/compare?a={a}&b={b}")).json()
    assert again["scorers"] == found["scorers"]


def test_the_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    values = [1.0] * 30 + [0.0] * 10
    mean, low, high = interval(values)
    assert mean == 0.75 and low < 0.75 < high and (low, high) == interval(values)[1:]
    assert interval([1.0, 1.0]) == (1.0, 1.0, 1.0)
    assert interval([]) == (0.0, 0.0, 0.0)


def recorded_then_replayed() -> dict[str, Any]:
    """Two real runs of alice's offline team, made a dataset, run again by the same version."""
    from tests.runs.helpers import start, wait_for_status

    alice = make_user()
    team = make_team(alice, minimal_spec())
    client = logged_in(alice)
    run_ids = [start(client, team.id, {"task": task}) for task in ("refunds", "returns")]
    for run_id in run_ids:
        assert wait_for_status(run_id, "succeeded", "failed").status == "succeeded"
    dataset = post(client, "/api/datasets", {"name": "Recorded"}).json()
    made = post(client, f"/api/datasets/{dataset['id']}/items/from-runs", {"run_ids": run_ids})
    assert made.status_code == 201, made.content
    body = {"team_id": team.id, "dataset_id": dataset["id"], "scorers": [{"kind": "json_equal"}]}
    experiment_id = run_experiment(client, body)
    return client.get(f"/api/experiments/{experiment_id}").json()


async def test_an_experiment_recorded_from_runs_scores_one_against_the_same_version(
    settings: Any,
) -> None:
    settings.EXPERIMENT_POLL_S = 0.2
    settings.RUN_EXECUTOR = "thread"
    read = await sync_to_async(recorded_then_replayed, thread_sensitive=False)()
    assert read["progress"]["done"] == 2
    assert read["summary"]["json_equal"] == {"mean": 1.0, "low": 1.0, "high": 1.0}
