"""A published team's own endpoints, called with its keys: a run starts with the input, owned
by the publisher and recorded as the publication's; the key reads that run back. Every way
in without the right key is refused, and bad input says what is wrong."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from publishing.models import PublicationKey, PublishedRun
from runs.models import Run
from teams.models import ApiToken
from tests.factories import make_run_of, make_user

from .helpers import issue_key, make_asking_team, publish, read, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]

QUESTION = {"input": {"question": "What is 6 * 7?"}}


@pytest.fixture
def published(alice: User, alice_client: Client) -> dict[str, Any]:
    team = make_asking_team(alice)
    publication = publish(alice_client, team, "help-desk")
    return {"team": team, "publication": publication, "key": issue_key(alice_client, publication)}


def test_a_key_starts_a_run_owned_by_the_publisher_and_reads_it_back(
    alice: User, published: dict[str, Any], dispatched: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = start("help-desk", published["key"], QUESTION)

    assert response.status_code == 201, response.content
    answer = response.json()
    run = Run.objects.get(id=answer["run_id"])
    assert run.owner == alice and run.input == {"question": "What is 6 * 7?"}
    key = PublicationKey.objects.get()
    assert run.started_by == f"publication:{published['publication']['id']}/key:{key.id}"
    assert PublishedRun.objects.get(run=run).key == key
    assert dispatched == [str(run.id)]
    assert answer["url"].endswith(f"/p/help-desk/runs/{run.id}")

    again = read("help-desk", published["key"], run.id)
    assert again.status_code == 200
    assert again.json()["run_id"] == str(run.id) and again.json()["status"] == "queued"


def test_the_key_is_shown_once_and_stored_as_its_digest(published: dict[str, Any]) -> None:
    row = PublicationKey.objects.get()
    assert published["key"].startswith("pub_")
    assert row.digest == ApiToken.digest_of(published["key"])
    assert published["key"] not in str(PublicationKey.objects.values().get())


# Committed: away from daphne (here, Django's test client) the view waits itself, and the
# wait reads the run on a connection of its own.
@pytest.mark.django_db(transaction=True)
def test_wait_answers_with_the_run_as_it_is_when_the_wait_runs_out(
    published: dict[str, Any], settings: Any
) -> None:
    settings.PUBLICATION_WAIT_S = 0.3  # nobody executes the run here
    response = start("help-desk", published["key"], QUESTION, "?wait=true")
    assert response.status_code == 201
    assert response.json()["status"] == "queued" and response.json()["finished"] is False


def test_a_key_of_one_publication_cannot_start_or_read_runs_of_another(
    alice: User, alice_client: Client, published: dict[str, Any]
) -> None:
    other = publish(alice_client, make_asking_team(alice, "Billing"), "billing")
    other_key = issue_key(alice_client, other)
    theirs = start("billing", other_key, QUESTION).json()["run_id"]

    # help-desk's key on billing's URLs: neither starts nor reads anything.
    refused = start("billing", published["key"], QUESTION)
    assert refused.status_code == 401
    assert "not a key of /p/billing/" in refused.json()["detail"]
    assert read("billing", published["key"], theirs).status_code == 401
    # Nor does it read billing's run through its own URL.
    assert read("help-desk", published["key"], theirs).status_code == 404
    assert Run.objects.count() == 1


def test_no_key_a_wrong_key_a_revoked_key_and_an_unpublished_team_get_401(
    alice_client: Client, published: dict[str, Any]
) -> None:
    assert start("help-desk", None, QUESTION).status_code == 401
    assert start("help-desk", "pub_guessed", QUESTION).status_code == 401
    response = start("help-desk", ApiToken.issue(make_user("carol"), "api")[1], QUESTION)
    assert response.status_code == 401  # an API token is not a publication key
    assert response["WWW-Authenticate"].startswith("Bearer")

    key_id = PublicationKey.objects.get().id
    pub_id = published["publication"]["id"]
    assert alice_client.delete(f"/api/publications/{pub_id}/keys/{key_id}").status_code == 204
    assert start("help-desk", published["key"], QUESTION).status_code == 401

    # A new key works until the team is unpublished.
    fresh = issue_key(alice_client, published["publication"])
    assert start("help-desk", fresh, QUESTION).status_code == 201
    assert alice_client.delete(f"/api/publications/{pub_id}").status_code == 204
    refused = start("help-desk", fresh, QUESTION)
    assert refused.status_code == 401 and "unpublished" in refused.json()["detail"]
    assert Run.objects.count() == 1


def test_a_run_of_the_team_not_started_through_the_publication_is_404(
    alice: User, published: dict[str, Any]
) -> None:
    elsewhere = make_run_of(published["team"])  # started in the app, same team and owner
    response = read("help-desk", published["key"], elsewhere.id)
    assert response.status_code == 404
    assert "No run" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"input": {"question": 42}}, 422, "input schema"),
        ({"input": {"question": "x", "extra": 1}}, 422, "input schema"),
        ({"input": {"question": "x" * 201}}, 422, "input schema"),
        ({"question": "where is input?"}, 422, '{"input": ...}'),
        ({"input": None}, 422, "cannot be null"),
        (b"{not json", 400, "not JSON"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_starts_nothing(
    published: dict[str, Any], body: Any, status: int, says: str
) -> None:
    response = start("help-desk", published["key"], body)
    assert response.status_code == status, response.content
    assert says in response.json()["detail"] + str(response.json()["problems"])
    assert Run.objects.count() == 0


NOT_AN_OBJECT = {
    b"{not json": (400, 'The body is not JSON; send {"input": ...}.'),
    b"[" * 5000: (400, 'The body is not JSON; send {"input": ...}.'),  # nests past the parser
    b'[{"input": {}}]': (422, 'Send the run\'s input as {"input": ...}.'),
    b"7": (422, 'Send the run\'s input as {"input": ...}.'),
    b"": (422, 'Send the run\'s input as {"input": ...}.'),
}


def test_a_body_that_is_not_a_json_object_gets_its_own_answer(
    published: dict[str, Any],
) -> None:
    for body, (status, detail) in NOT_AN_OBJECT.items():
        response = start("help-desk", published["key"], body)
        answer = {"detail": detail, "problems": []}
        assert (response.status_code, response.json()) == (status, answer), body
    assert Run.objects.count() == 0


def test_an_oversized_body_is_refused(published: dict[str, Any], settings: Any) -> None:
    settings.PUBLICATION_MAX_BODY_BYTES = 1000
    response = start("help-desk", published["key"], {"input": {"question": "x" * 2000}})
    assert response.status_code == 413
    assert "larger than 1000 bytes" in response.json()["detail"]
    assert Run.objects.count() == 0


def test_each_key_has_the_publications_rate_and_gets_429_with_retry_after(
    alice_client: Client, published: dict[str, Any]
) -> None:
    publish(alice_client, published["team"], "help-desk", rate_limit="2/minute")
    second_key = issue_key(alice_client, published["publication"], "second")
    assert start("help-desk", published["key"], QUESTION).status_code == 201
    assert read("help-desk", published["key"], uuid.uuid4()).status_code == 404

    refused = start("help-desk", published["key"], QUESTION)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "2 per minute" in refused.json()["detail"]
    # The count is the key's: another key of the same publication still gets in.
    assert start("help-desk", second_key, QUESTION).status_code == 201


def test_a_switched_off_publisher_publishes_nothing(
    alice: User, alice_client: Client, published: dict[str, Any]
) -> None:
    # The operator switches an account off (an abuser serving the operator's models to the
    # world through a published team, say): API tokens stop at once, and so must the
    # publication's keys and its chat widget, or anyone keeps spending on that account.
    shop = "https://shop.example.com"
    publish(alice_client, published["team"], "help-desk", widget_origins=[shop])
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    refused = start("help-desk", published["key"], QUESTION)
    widget = Client(enforce_csrf_checks=True).post(
        "/p/help-desk/widget/conversations", HTTP_ORIGIN=shop
    )

    assert refused.status_code == 401, refused.content
    assert widget.status_code == 403, widget.content
    assert not Run.objects.exists()


def test_publishing_again_revives_no_key_the_takedown_ended(
    alice_client: Client, published: dict[str, Any]
) -> None:
    # A publisher takes the team down because a key leaked (or a customer left), then puts
    # it back up under the same slug: the keys of before must stay dead, the revoked one too.
    pub_id = published["publication"]["id"]
    revoked = issue_key(alice_client, published["publication"], "old customer")
    revoked_id = PublicationKey.objects.get(name="old customer").id
    assert alice_client.delete(f"/api/publications/{pub_id}/keys/{revoked_id}").status_code == 204
    assert alice_client.delete(f"/api/publications/{pub_id}").status_code == 204

    publish(alice_client, published["team"], "help-desk")

    for old in (published["key"], revoked):
        refused = start("help-desk", old, QUESTION)
        assert refused.status_code == 401, refused.content
    keys = alice_client.get(f"/api/publications/{pub_id}/keys").json()
    assert all(k["revoked_at"] for k in keys)  # the Publish page says so too
    # A key issued after it is back works.
    fresh = issue_key(alice_client, published["publication"])
    assert start("help-desk", fresh, QUESTION).status_code == 201
    assert Run.objects.count() == 1
