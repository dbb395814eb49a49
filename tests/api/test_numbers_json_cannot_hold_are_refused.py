"""NaN, Infinity and 1e999 are not JSON, but Python's parser reads them, and PostgreSQL's
jsonb stores none of them: a body carrying one was a 500 from the database, after the work
before it was done (a dataset made with none of its items). Now every JSON body, upload,
trigger call and published-team input with one is a located 422 and nothing is saved."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evaluations.models import Dataset
from runs.models import Run
from tests.factories import make_team

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]

NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]


@pytest.mark.parametrize("number", NOT_FINITE)
def test_a_dataset_with_one_is_refused_and_not_made(alice_client: Client, number: str) -> None:
    body = '{"name": "Cases", "items": [{"input": {"n": N}}]}'.replace("N", number)
    response = alice_client.post("/api/datasets", body, content_type="application/json")
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["code"], problem["path"]) == ("not_finite", "items.0.input.n")
    assert not Dataset.objects.exists()


@pytest.mark.parametrize("number", NOT_FINITE)
def test_a_run_input_with_one_is_refused(alice: User, alice_client: Client, number: str) -> None:
    team = make_team(alice)
    body = '{"input": {"task": "sum", "values": [1, N]}}'.replace("N", number)
    response = alice_client.post(
        f"/api/teams/{team.id}/runs", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "not_finite"
    assert not Run.objects.exists()


def test_an_uploaded_line_with_one_is_named(alice_client: Client) -> None:
    made = alice_client.post("/api/datasets", '{"name": "Cases"}', content_type="application/json")
    content = b'{"input": "fine"}\n{"input": "x", "expected": NaN}\n'
    response = alice_client.post(
        f"/api/datasets/{made.json()['id']}/items/upload",
        {"file": SimpleUploadedFile("cases.jsonl", content)},
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["line"] == 2
    assert alice_client.get(f"/api/datasets/{made.json()['id']}").json()["items"] == 0


def test_an_experiment_with_an_infinite_tolerance_is_refused(
    alice: User, alice_client: Client
) -> None:
    team = make_team(alice)
    dataset = alice_client.post(
        "/api/datasets", '{"name": "C", "items": [{"input": {"task": "a"}}]}',
        content_type="application/json",
    ).json()  # fmt: skip
    scorers = '[{"kind": "numeric", "tolerance": Infinity}]'
    body = f'{{"team_id": {team.id}, "dataset_id": {dataset["id"]}, "scorers": {scorers}}}'
    response = alice_client.post("/api/experiments", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["problems"][0]["code"] == "not_finite"
