"""The dataset pages: make a dataset, fill it from a file (all or nothing, every bad line
named), look at any version, and start an experiment with chosen scorers and options."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations import actions
from evaluations.models import Dataset, Experiment
from tests.factories import make_ended_run, make_team, make_user, minimal_spec
from tests.workspaces.helpers import client_of, shared_workspace
from workspaces.models import personal_workspace

pytestmark = pytest.mark.django_db


def upload(client, dataset, name: str, content: bytes):
    return client.post(
        f"/datasets/{dataset.pk}/upload/", {"file": SimpleUploadedFile(name, content)}
    )


def test_a_dataset_is_created_and_listed() -> None:
    client = client_of(make_user())
    response = client.post("/datasets/", {"name": "Refunds", "description": "Policy cases"})
    dataset = Dataset.objects.get(name="Refunds")
    assert response.status_code == 302 and response["Location"] == f"/datasets/{dataset.pk}/"
    page = client.get("/datasets/").content.decode()
    assert "Refunds" in page and "Policy cases" in page
    # A name is needed: the form says so and nothing is made.
    response = client.post("/datasets/", {"name": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert Dataset.objects.count() == 1


def test_an_upload_adds_its_items_as_a_new_version() -> None:
    alice = make_user()
    client = client_of(alice)
    dataset = actions.do_create_dataset(alice, personal_workspace(alice), "Cases", "")
    lines = (
        b'{"input": {"task": "refund"}, "expected": "no", "tags": ["policy"]}\n{"input": "hi"}\n'
    )
    response = upload(client, dataset, "cases.jsonl", lines)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Added 2 items from cases.jsonl: this is version 1." in page
    assert "refund" in page and "policy" in page and "2 items in version 1" in page
    # A CSV file makes version 2; version 1 can still be read as it was.
    response = upload(
        client, dataset, "more.csv", b'input,expected,tags\n"{""task"": ""ship""}",yes,a;b\n'
    )
    assert response.status_code == 302
    assert "3 items in version 2" in client.get(f"/datasets/{dataset.pk}/").content.decode()
    old = client.get(f"/datasets/{dataset.pk}/?version=1").content.decode()
    assert "2 items in version 1" in old and "an old version" in old and "ship" not in old


def test_a_bad_upload_names_every_bad_line_and_stores_nothing() -> None:
    alice = make_user()
    client = client_of(alice)
    dataset = actions.do_create_dataset(alice, personal_workspace(alice), "Cases", "")
    content = b'{"input": "fine"}\nnot json\n{"expected": "no input"}\n{"input": "fine too"}\n'
    response = upload(client, dataset, "cases.jsonl", content)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Nothing was added" in page
    assert "Line 2: Not JSON" in page
    assert "Line 3: input: Field required" in page
    dataset.refresh_from_db()
    assert dataset.version == 0 and dataset.items.count() == 0
    # A CSV without an input column, and a file that is not text.
    page = upload(client, dataset, "c.csv", b"question,answer\nx,y\n").content.decode()
    assert "Line 1: The header needs an input column." in page
    page = upload(client, dataset, "c.jsonl", b"\xff\xfe\x00bad").content.decode()
    assert "The file is not UTF-8 text." in page
    assert dataset.items.count() == 0


def test_an_experiment_is_started_with_the_scorers_and_options_chosen() -> None:
    alice = make_user()
    client = client_of(alice)
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refund"}, expected="no")])
    form = client.get(f"/datasets/{dataset.pk}/experiment/").content.decode()
    assert team.name in form and "judge" in form and "offline (simulated)" in form
    response = client.post(
        f"/datasets/{dataset.pk}/experiment/",
        {"team": team.pk, "version": "", "concurrency": 3, "exact": "on",
         "json_equal": "on", "json_equal_fields": "decision, total", "json_equal_tolerance": "0.5",
         "judge": "on", "judge_model": "offline", "judge_rubric": "Polite?"},
    )  # fmt: skip
    experiment = Experiment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/experiments/{experiment.pk}/"
    assert experiment.concurrency == 3 and experiment.team_version.number == team.version
    assert experiment.scorers == [
        {"kind": "exact"},
        {"kind": "json_equal", "fields": ["decision", "total"], "tolerance": 0.5},
        {"kind": "judge", "rubric": "Polite?", "model": "offline"},
    ]


def test_a_scorer_with_bad_options_is_refused_in_place() -> None:
    alice = make_user()
    client = client_of(alice)
    schema = {"type": "object", "properties": {"task": {"type": "string"}}, "required": ["task"]}
    team = make_team(alice, minimal_spec(input_schema=schema))
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refund"})])
    url = f"/datasets/{dataset.pk}/experiment/"
    base = {"team": team.pk, "concurrency": 2}
    # A backreference RE2 cannot run, a schema that is no JSON, a judge with no rubric.
    response = client.post(url, base | {"regex": "on", "regex_pattern": r"(a)\1",
                                        "json_schema": "on", "json_schema_schema": "{nope",
                                        "judge": "on", "judge_model": "offline"})  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 422
    assert "RE2 cannot compile the pattern" in page
    assert "The schema is not JSON." in page
    assert "rubric: String should have at least 1 character" in page
    assert client.post(url, base).status_code == 422  # no scorer at all
    assert "Choose at least one scorer." in client.post(url, base).content.decode()
    # Items that do not fit the team's input schema are named.
    actions.do_add_items(dataset, [actions.ItemIn(input=42)])
    response = client.post(url, base | {"exact": "on"})
    assert response.status_code == 422
    assert "1 items do not fit the team&#x27;s input schema." in response.content.decode()
    assert not Experiment.objects.exists()


def test_a_team_of_another_workspace_cannot_be_chosen() -> None:
    alice, mallory = make_user("alice"), make_user("mallory")
    team = make_team(alice)
    theirs = make_team(mallory)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refund"})])
    response = client_of(alice).post(
        f"/datasets/{dataset.pk}/experiment/",
        {"team": theirs.pk, "concurrency": 1, "exact": "on"},
    )
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not Experiment.objects.exists()


def test_a_viewer_reads_a_dataset_but_is_told_why_they_cannot_change_it() -> None:
    workspace, users = shared_workspace(viewer="victor")
    dataset = actions.do_create_dataset(users["olivia"], workspace, "Shared cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refund"})])
    client = client_of(users["victor"])
    page = client.get(f"/datasets/{dataset.pk}/").content.decode()
    assert "refund" in page
    assert 'id="upload"' not in page and 'id="start-experiment"' not in page
    assert page.count("needs the") >= 2  # a sentence for each thing the role cannot do
    response = upload(client, dataset, "c.jsonl", b'{"input": "x"}\n')
    assert response.status_code == 403 and dataset.items.count() == 1
    assert client.get(f"/datasets/{dataset.pk}/experiment/").status_code == 403


def test_the_run_page_offers_add_to_dataset_only_to_roles_that_may_change_datasets() -> None:
    workspace, users = shared_workspace(viewer="victor", editor="edith")
    run = make_ended_run(users["olivia"], events=1, days_ago=0, workspace=workspace)

    def limit(username: str) -> str:
        page = client_of(users[username]).get(f"/runs/{run.id}/").content.decode()
        assert f'data-workspace="{workspace.slug}"' in page
        return page.split('data-cannot-add-to-dataset="', 1)[1].split('"', 1)[0]

    assert limit("edith") == ""
    assert "needs the" in limit("victor") and "viewer" in limit("victor")


def test_a_file_over_the_size_limit_is_refused_whole(monkeypatch) -> None:
    from evaluations import views_datasets

    monkeypatch.setattr(views_datasets, "MAX_UPLOAD_BYTES", 64)
    alice = make_user()
    client = client_of(alice)
    dataset = actions.do_create_dataset(alice, personal_workspace(alice), "Cases", "")
    response = upload(client, dataset, "big.jsonl", b'{"input": "x"}\n' * 10)
    assert response.status_code == 422
    assert "The file is larger than" in response.content.decode()
    assert dataset.items.count() == 0


def test_the_experiment_form_titles_each_scorer_in_words_with_its_code_name_as_a_hint() -> None:
    import re

    alice = make_user()
    team = make_team(alice)
    dataset = actions.do_create_dataset(alice, team.workspace, "Cases", "")
    actions.do_add_items(dataset, [actions.ItemIn(input={"task": "refund"}, expected="no")])
    form = client_of(alice).get(f"/datasets/{dataset.pk}/experiment/").content.decode()
    legends = re.findall(r"<legend><label><input[^>]*> (.*?)</label> <code[^>]*>(.*?)</code>", form)
    assert legends == [
        ("Exact text", "exact"), ("Same JSON", "json_equal"),
        ("Fits a JSON Schema", "json_schema"), ("Contains a text", "contains"),
        ("Matches a pattern", "regex"), ("Close to a number", "numeric"),
        ("Graded by a model", "judge"),
    ]  # fmt: skip
