"""Datasets: items by JSON, by JSONL and CSV uploads (a bad row names its line and stores
nothing) and from runs; every change makes a new version, and old versions stay readable."""

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evaluations.models import Dataset
from tests.factories import make_ended_run, make_team, make_user
from workspaces.models import Membership, create_workspace

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def new_dataset(client: Client, **body: Any) -> dict[str, Any]:
    response = post(client, "/api/datasets", {"name": "Refunds", **body})
    assert response.status_code == 201, response.content
    return response.json()


def upload(client: Client, dataset_id: int, name: str, content: bytes) -> Any:
    return client.post(
        f"/api/datasets/{dataset_id}/items/upload",
        {"file": SimpleUploadedFile(name, content)},
    )


def test_it_versions_every_change_and_keeps_old_versions(alice_client: Client) -> None:
    # Made with two items: version 1.
    dataset = new_dataset(
        alice_client,
        items=[{"input": {"q": "a"}}, {"input": {"q": "b"}, "expected": "B", "tags": ["x"]}],
    )
    assert (dataset["version"], dataset["items"]) == (1, 2)
    url = f"/api/datasets/{dataset['id']}"
    first, second = alice_client.get(f"{url}/items").json()
    # Changing an item makes version 2 where the new one replaces it.
    changed = alice_client.put(
        f"{url}/items/{second['id']}",
        json.dumps({"input": {"q": "b2"}, "expected": "B2"}),
        content_type="application/json",
    )
    assert changed.status_code == 200
    # Adding one makes version 3; removing the first makes version 4.
    assert post(alice_client, f"{url}/items", {"items": [{"input": {"q": "c"}}]}).status_code == 201
    assert alice_client.delete(f"{url}/items/{first['id']}").status_code == 204
    read = alice_client.get(url).json()
    assert (read["version"], read["items"]) == (4, 2)
    now = [i["input"]["q"] for i in alice_client.get(f"{url}/items").json()]
    then = [i["input"]["q"] for i in alice_client.get(f"{url}/items?version=1").json()]
    assert now == ["b2", "c"]
    assert then == ["a", "b"]


def test_it_adds_items_from_jsonl_and_csv(alice_client: Client) -> None:
    dataset = new_dataset(alice_client)
    lines = b'{"input": {"q": "one"}, "expected": {"n": 1}}\n\n{"input": "two", "tags": ["t"]}\n'
    made = upload(alice_client, dataset["id"], "cases.jsonl", lines)
    assert made.status_code == 201, made.content
    assert [i["input"] for i in made.json()] == [{"q": "one"}, "two"]
    table = b'input,expected,tags\n"{""q"": ""three""}",3,"a; b"\nplain text,,\n'
    made = upload(alice_client, dataset["id"], "cases.csv", table)
    assert made.status_code == 201, made.content
    rows = made.json()
    assert rows[0]["input"] == {"q": "three"} and rows[0]["expected"] == 3
    assert rows[0]["tags"] == ["a", "b"]
    assert rows[1] == {**rows[1], "input": "plain text", "expected": None, "tags": []}
    assert alice_client.get(f"/api/datasets/{dataset['id']}").json()["items"] == 4


def test_a_bad_row_names_its_line_and_nothing_is_stored(alice_client: Client) -> None:
    dataset = new_dataset(alice_client, items=[{"input": "kept"}])
    lines = b'{"input": 1}\n{"input": 2\n{"expected": 3}\n{"input": 4, "tags": "nope"}\n'
    refused = upload(alice_client, dataset["id"], "bad.jsonl", lines)
    assert refused.status_code == 422
    assert [p["line"] for p in refused.json()["problems"]] == [2, 3, 4]
    assert "lines 2, 3, 4" in refused.json()["detail"]
    csv_refused = upload(alice_client, dataset["id"], "bad.csv", b"question,answer\nx,y\n")
    assert csv_refused.status_code == 422
    assert "input column" in csv_refused.json()["problems"][0]["message"]
    binary = upload(alice_client, dataset["id"], "x.jsonl", b"\xff\xfe\x00")
    assert binary.status_code == 422
    read = alice_client.get(f"/api/datasets/{dataset['id']}").json()
    assert (read["version"], read["items"]) == (1, 1)


def test_it_records_runs_as_items(alice: Any, alice_client: Client) -> None:
    team = make_team(alice)
    run = make_ended_run(
        alice, events=2, days_ago=0, team=team, input={"q": "refund?"}, output={"answer": "yes"}
    )
    failed = make_ended_run(alice, events=2, days_ago=0, team=team, status="failed")
    dataset = new_dataset(alice_client)
    url = f"/api/datasets/{dataset['id']}/items/from-runs"
    made = post(alice_client, url, {"run_ids": [str(run.id)]})
    assert made.status_code == 201, made.content
    item = made.json()[0]
    assert (item["input"], item["expected"], item["source_run"]) == (
        {"q": "refund?"},
        {"answer": "yes"},
        str(run.id),
    )
    # A run that did not succeed has no output to expect: refused, nothing stored.
    refused = post(alice_client, url, {"run_ids": [str(run.id), str(failed.id)]})
    assert refused.status_code == 422 and str(failed.id) in refused.json()["detail"] + json.dumps(
        refused.json()["problems"]
    )
    assert Dataset.objects.get(pk=dataset["id"]).items_at().count() == 1


def test_another_workspaces_runs_and_datasets_are_not_found(alice_client: Client) -> None:
    # Bob's run and dataset live in his personal workspace, where alice is no member.
    bob = make_user("bob")
    bobs_run = make_ended_run(bob, events=2, days_ago=0, team=make_team(bob), output="secret")
    bobs = Client()
    bobs.force_login(bob)
    bobs_dataset = new_dataset(bobs)
    dataset = new_dataset(alice_client)
    stolen = post(
        alice_client,
        f"/api/datasets/{dataset['id']}/items/from-runs",
        {"run_ids": [str(bobs_run.id)]},
    )
    assert stolen.status_code == 404
    assert alice_client.get(f"/api/datasets/{bobs_dataset['id']}").status_code == 404
    assert alice_client.get(f"/api/datasets/{bobs_dataset['id']}/items").status_code == 404


def test_a_viewer_reads_but_cannot_change_a_dataset(alice: Any, alice_client: Client) -> None:
    shared = create_workspace("Support", owner=alice)
    viewer = make_user("vera")
    Membership.objects.create(workspace=shared, user=viewer, role="viewer")
    dataset = new_dataset(alice_client, workspace=shared.slug, items=[{"input": "x"}])
    client = Client()
    client.force_login(viewer)
    assert client.get(f"/api/datasets/{dataset['id']}/items").status_code == 200
    refused = post(client, f"/api/datasets/{dataset['id']}/items", {"items": [{"input": "y"}]})
    assert refused.status_code == 403
    assert "editor" in refused.json()["detail"]
    assert (
        post(client, "/api/datasets", {"name": "Mine", "workspace": shared.slug}).status_code == 403
    )


def test_deleting_a_team_or_workspace_takes_its_experiments_along(
    alice: Any, alice_client: Client
) -> None:
    from evaluations import actions
    from evaluations.models import Experiment
    from evaluations.scorers import SPECS

    shared = create_workspace("Lab", owner=alice)
    dataset = actions.do_create_dataset(alice, shared, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={})])
    from teams.services import create_team
    from teams.spec import parse
    from tests.factories import minimal_spec

    def experiment() -> Any:
        team = create_team(
            alice, parse(minimal_spec(name=f"T{Experiment.objects.count()}")), workspace=shared
        )[0]
        return actions.do_start_experiment(
            alice, team.current_version(), dataset, SPECS.validate_python([{"kind": "exact"}]), 1
        )

    first, second = experiment(), experiment()
    # A dataset experiments ran on is kept: deleting it is refused, saying why.
    refused = alice_client.delete(f"/api/datasets/{dataset.pk}")
    assert refused.status_code == 409 and "Experiments ran" in refused.json()["detail"]
    assert alice_client.delete(f"/api/teams/{first.team_id}").status_code == 204
    assert not Experiment.objects.filter(pk=first.pk).exists()
    shared.delete()
    assert not Experiment.objects.filter(pk=second.pk).exists()
    assert not Dataset.objects.filter(pk=dataset.pk).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        # PostgreSQL cannot store a NUL in jsonb: the insert failed with a 500.
        ("nul.jsonl", b'{"input": {"q": "a\\u0000b"}}\n', "NUL"),
        ("nul.csv", b'input\n"{""q"": ""a\\u0000b""}"\n', "NUL"),
        # Past Python's stack json.loads raises RecursionError, not ValueError: a 500.
        ("deep.jsonl", b"[" * 100_000 + b"\n", "deep"),
        ("deep.csv", b"input\n" + b"[" * 100_000 + b"\n", "deep"),
        # Deeper than any JSON body the API takes (64 levels), yet stored as an item.
        ("deep.jsonl", b'{"input": ' + b"[" * 200 + b"]" * 200 + b"}\n", "deep"),
    ],
)
def test_an_upload_holds_only_what_a_json_body_could(
    alice_client: Client, name: str, content: bytes, message: str
) -> None:
    # The upload is multipart, so the JSON body middleware never saw it.
    dataset = new_dataset(alice_client)
    refused = upload(alice_client, dataset["id"], name, content)
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["line"] in (1, 2)
    assert message.lower() in problem["message"].lower()
    assert alice_client.get(f"/api/datasets/{dataset['id']}").json()["items"] == 0


def test_an_upload_is_read_no_further_than_a_dataset_holds(
    alice_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 20 MB file of one-line items is 1.7 million rows: read whole, it held a web worker
    # for 36 s and 1.3 GB before the dataset's cap refused it. Past the cap, nothing more is
    # read, so the 422 names where the file passed it and no line after.
    from evaluations import actions

    monkeypatch.setattr(actions, "MAX_ITEMS", 3)
    dataset = new_dataset(alice_client)
    lines = b'{"input": 1}\n' * 4 + b"not json\n" * 1000
    refused = upload(alice_client, dataset["id"], "many.jsonl", lines)
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["line"] == 4
    assert "at most 3 items" in problem["message"]


def test_a_csv_cell_past_the_readers_limit_names_its_line(alice_client: Client) -> None:
    # Python's csv reader refuses a field over 131,072 characters with csv.Error: a 500.
    dataset = new_dataset(alice_client)
    table = b"input\nsmall\n" + b"x" * 200_000 + b"\n"
    refused = upload(alice_client, dataset["id"], "wide.csv", table)
    assert refused.status_code == 422, refused.content
    (problem,) = refused.json()["problems"]
    assert problem["line"] == 3
