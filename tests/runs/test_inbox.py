"""The inbox: every question waiting for a person across their runs, never another user's,
never one already answered, in a bounded number of queries."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from runs.models import Run
from tests.factories import append_event, make_run, make_user

pytestmark = pytest.mark.django_db


def asking(owner, prompt: str, key: str = "run/approver/human", **fields) -> Run:
    run = make_run(owner, status=Run.Status.WAITING, waiting_for=key, **fields)
    append_event(run, "run.started", payload={"input": run.input})
    append_event(
        run, "human.requested", "approver",
        payload={"activity_key": key, "prompt": prompt, "node": "approver"},
    )  # fmt: skip
    return run


def test_it_lists_the_questions_waiting_for_the_user(alice, alice_client: Client) -> None:
    first = asking(alice, "Approve the refund of 40 EUR?", team_name="Refunds")
    second = asking(alice, "Publish the post?", team_name="Blog")
    response = alice_client.get("/api/inbox")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    questions = body["questions"]
    assert [q["run_id"] for q in questions] == [str(first.id), str(second.id)]
    assert questions[0]["prompt"] == "Approve the refund of 40 EUR?"
    assert questions[0]["team_name"] == "Refunds"
    assert questions[0]["run_url"] == f"/runs/{first.id}/"
    assert questions[0]["started_by"] == "alice"


def test_an_answered_question_leaves_the_inbox(alice, alice_client: Client) -> None:
    run = asking(alice, "First?", key="k1")
    append_event(run, "human.answered", key="k1#answered", payload={"answer": "yes", "by": "alice"})
    append_event(run, "human.requested", payload={"activity_key": "k2", "prompt": "Second?"})
    prompts = [q["prompt"] for q in alice_client.get("/api/inbox").json()["questions"]]
    assert prompts == ["Second?"]


def test_finished_runs_and_other_users_questions_are_not_there(alice, alice_client) -> None:
    asking(make_user("bob"), "Bob's question")
    ended = asking(alice, "Too late")
    Run.objects.filter(id=ended.id).update(status=Run.Status.SUCCEEDED)
    assert alice_client.get("/api/inbox").json() == {"count": 0, "questions": []}


def test_it_needs_a_signed_in_user() -> None:
    assert Client().get("/api/inbox").status_code == 401


def test_the_number_of_queries_does_not_grow_with_the_runs(alice, alice_client) -> None:
    for n in range(3):
        asking(alice, f"Question {n}?")
    with CaptureQueriesContext(connection) as few:
        alice_client.get("/api/inbox")
    for n in range(3, 12):
        asking(alice, f"Question {n}?")
    with CaptureQueriesContext(connection) as many:
        assert alice_client.get("/api/inbox").json()["count"] == 12
    assert len(many) == len(few)


def test_the_top_bar_counts_the_waiting_questions(alice, alice_client: Client) -> None:
    asking(alice, "Approve?")
    asking(alice, "Publish?")
    page = alice_client.get("/runs/").content.decode()
    assert '<span id="inbox-count"' in page
    assert ">2</span>" in page


def test_it_names_the_node_that_asks_as_the_builder_does(alice, alice_client: Client) -> None:
    # The node's id is "approver"; people named it "Finance lead" in the builder.
    spec = {"name": "Refunds", "nodes": [{"id": "approver", "name": "Finance lead"}]}
    asking(alice, "Approve the refund?", team_name="Refunds", spec=spec)
    page = alice_client.get("/inbox/").text
    assert 'asked by <span title="approver">Finance lead</span>' in page
    assert "asked by approver" not in page
    (question,) = alice_client.get("/api/inbox").json()["questions"]
    assert (question["node"], question["node_name"]) == ("approver", "Finance lead")


def test_a_node_without_a_name_is_named_by_its_id(alice, alice_client: Client) -> None:
    asking(alice, "Approve?")
    assert "asked by <span>approver</span>" in alice_client.get("/inbox/").text
