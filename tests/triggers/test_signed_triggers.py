"""Signed triggers: a POST signed with the trigger's secret starts a run of its team, with the
body (or the part a JSON pointer names) as input. A missing, wrong or stale signature is a
401 and starts nothing; a repeated Idempotency-Key, or the same signed call replayed under
another key, returns the first run; a body past the cap is a 413."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

from runs.models import Run
from runs.webhooks import sign
from tests.factories import make_supervisor_team, make_user
from triggers.models import Trigger

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dispatched")]


def create(client: Client, team: Any, **fields: Any) -> dict[str, Any]:
    response = client.post(
        f"/api/teams/{team.id}/triggers", fields, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def path_of(trigger: dict[str, Any]) -> str:
    return trigger["url"].removeprefix("http://127.0.0.1:8000")


def call(
    trigger: dict[str, Any], body: bytes, *, secret: str | None = None, at: int | None = None,
    key: str | None = None, **headers: str,
) -> Any:  # fmt: skip
    """POST the body as a sender does: signed over the timestamp and the body."""
    timestamp = int(time.time()) if at is None else at
    signed = {
        "HTTP_X_ORCHESTRATOR_TIMESTAMP": str(timestamp),
        "HTTP_X_ORCHESTRATOR_SIGNATURE": sign(secret or trigger["secret"], timestamp, body),
    }
    if key is not None:
        signed["HTTP_IDEMPOTENCY_KEY"] = key
    # As another system calls it: no session, no CSRF token.
    return Client(enforce_csrf_checks=True).post(
        path_of(trigger), body, content_type="application/json", **{**signed, **headers}
    )


BODY = json.dumps({"question": "What is 6 * 7?"}).encode()


def test_a_signed_call_starts_a_run_with_the_body_as_input(
    alice: User,
    alice_client: Client,
    dispatched: list[str],
    django_capture_on_commit_callbacks: Any,
) -> None:
    team = make_supervisor_team(alice)
    trigger = create(alice_client, team, name="from the CRM")
    assert trigger["secret"].startswith("trsec_")

    with django_capture_on_commit_callbacks(execute=True):
        response = call(trigger, BODY)

    assert response.status_code == 201, response.content
    out = response.json()
    run = Run.objects.get()
    assert out["run_id"] == str(run.id) and out["created"] is True
    assert out["api_url"] == f"http://127.0.0.1:8000/api/runs/{run.id}"
    assert out["run_url"] == f"http://127.0.0.1:8000/runs/{run.id}/"
    assert out["events_url"] == f"http://127.0.0.1:8000/api/runs/{run.id}/events"
    assert (run.owner, run.team, run.input) == (alice, team, {"question": "What is 6 * 7?"})
    assert dispatched == [str(run.id)]
    # The run says what started it, on the API the owner reads.
    shown = alice_client.get(f"/api/runs/{run.id}").json()
    assert shown["started_by"] == f"trigger:{trigger['id']}"


def test_the_secret_is_shown_once_and_stored_encrypted(alice: User, alice_client: Client) -> None:
    team = make_supervisor_team(alice)
    trigger = create(alice_client, team)

    [listed] = alice_client.get(f"/api/teams/{team.id}/triggers").json()
    assert "secret" not in listed and listed["url"] == trigger["url"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM triggers_trigger")
        [(stored,)] = cursor.fetchall()
    assert trigger["secret"] not in stored


@pytest.mark.parametrize(
    ("tamper", "says"),
    [
        ({"secret": "trsec_guessed"}, "does not match"),
        ({"HTTP_X_ORCHESTRATOR_SIGNATURE": ""}, "Sign the call"),
        ({"HTTP_X_ORCHESTRATOR_SIGNATURE": "sha256=" + "0" * 64}, "does not match"),
        ({"HTTP_X_ORCHESTRATOR_TIMESTAMP": "yesterday"}, "Unix time"),
    ],
)
def test_a_bad_signature_is_a_401_and_starts_nothing(
    alice: User, alice_client: Client, tamper: dict[str, str], says: str
) -> None:
    trigger = create(alice_client, make_supervisor_team(alice))

    response = call(trigger, BODY, **tamper)

    assert response.status_code == 401
    assert says in response.json()["detail"]
    assert not Run.objects.exists()


def test_a_body_changed_after_signing_is_a_401(alice: User, alice_client: Client) -> None:
    trigger = create(alice_client, make_supervisor_team(alice))
    timestamp = int(time.time())
    signature = sign(trigger["secret"], timestamp, BODY)

    response = Client().post(
        path_of(trigger),
        b'{"question": "Wire the money"}',
        content_type="application/json",
        HTTP_X_ORCHESTRATOR_TIMESTAMP=str(timestamp),
        HTTP_X_ORCHESTRATOR_SIGNATURE=signature,
    )

    assert response.status_code == 401
    assert not Run.objects.exists()


@pytest.mark.parametrize("off_s", [-301, 301, -86_400])
def test_a_stale_or_future_timestamp_is_a_401(
    alice: User, alice_client: Client, off_s: int
) -> None:
    trigger = create(alice_client, make_supervisor_team(alice))

    # Signed correctly, but not now: a captured call replayed later.
    response = call(trigger, BODY, at=int(time.time()) + off_s)

    assert response.status_code == 401
    assert "300 s from now" in response.json()["detail"]
    assert not Run.objects.exists()


def test_a_repeated_idempotency_key_returns_the_first_run(
    alice: User, alice_client: Client
) -> None:
    trigger = create(alice_client, make_supervisor_team(alice))

    first = call(trigger, BODY, key="order-1234")
    again = call(trigger, b'{"question": "other"}', at=int(time.time()) - 5, key="order-1234")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["run_id"] == first.json()["run_id"]
    assert again.json()["created"] is False
    assert Run.objects.count() == 1
    assert call(trigger, BODY, at=int(time.time()) - 9, key="order-1235").status_code == 201
    assert Run.objects.count() == 2


def test_a_replayed_call_under_another_key_returns_the_first_run(
    alice: User, alice_client: Client
) -> None:
    trigger = create(alice_client, make_supervisor_team(alice))
    timestamp = int(time.time())
    first = call(trigger, BODY, at=timestamp, key="a")

    # An attacker who captured the call replays it within the window with a fresh key.
    replayed = call(trigger, BODY, at=timestamp, key="b")

    assert replayed.status_code == 200
    assert replayed.json()["run_id"] == first.json()["run_id"]
    assert Run.objects.count() == 1


def test_a_json_pointer_picks_the_input_and_a_missing_part_is_a_422(
    alice: User, alice_client: Client
) -> None:
    trigger = create(alice_client, make_supervisor_team(alice), input_pointer="/ticket/text")

    assert call(trigger, b'{"ticket": {"text": "The printer is on fire"}}').status_code == 201
    assert Run.objects.get().input == "The printer is on fire"

    missing = call(trigger, b'{"ticket": {}}')
    assert missing.status_code == 422
    assert "nothing at /ticket/text" in missing.json()["detail"]

    null = call(trigger, b'{"ticket": {"text": null}}')
    assert null.status_code == 422
    assert "is null" in null.json()["detail"]
    assert call(trigger, b"null").status_code == 422
    assert Run.objects.count() == 1


def test_a_bad_pointer_is_a_422_at_the_field(alice: User, alice_client: Client) -> None:
    team = make_supervisor_team(alice)
    response = alice_client.post(
        f"/api/teams/{team.id}/triggers",
        {"input_pointer": "ticket"},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "input_pointer"


def test_a_body_past_the_cap_is_a_413_and_starts_nothing(
    alice: User, alice_client: Client, settings: Any
) -> None:
    settings.TRIGGER_MAX_BODY_BYTES = 1024
    trigger = create(alice_client, make_supervisor_team(alice))

    response = call(trigger, json.dumps({"padding": "x" * 2000}).encode())

    assert response.status_code == 413
    assert not Run.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        # Past Python's stack: json.loads raises RecursionError, and as text/plain the body
        # middleware (JSON bodies only) does not see it first. It was a 500.
        b"[" * 100_000,
    ],
)
def test_a_body_that_is_not_json_is_a_422(alice: User, alice_client: Client, body: bytes) -> None:
    trigger = create(alice_client, make_supervisor_team(alice))

    response = call(trigger, body, CONTENT_TYPE="text/plain")

    assert response.status_code == 422
    assert not Run.objects.exists()


def test_github_signed_pull_requests_start_one_run_each(alice: User, alice_client: Client) -> None:
    trigger = create(
        alice_client, make_supervisor_team(alice), scheme="github", input_pointer="/pull_request"
    )
    body = json.dumps({"action": "opened", "pull_request": {"number": 7, "title": "Fix"}}).encode()
    digest = hmac.new(trigger["secret"].encode(), body, hashlib.sha256).hexdigest()

    def deliver(signature: str, delivery: str) -> Any:
        return Client().post(
            path_of(trigger), body, content_type="application/json",
            HTTP_X_HUB_SIGNATURE_256=signature, HTTP_X_GITHUB_EVENT="pull_request",
            HTTP_X_GITHUB_DELIVERY=delivery,
        )  # fmt: skip

    assert deliver("sha256=" + "0" * 64, "d1").status_code == 401
    assert deliver(f"sha256={digest}", "d1").status_code == 201
    assert Run.objects.get().input == {"number": 7, "title": "Fix"}
    # GitHub's signature has no timestamp: the same body replayed never starts a second run.
    assert deliver(f"sha256={digest}", "d2").status_code == 200
    assert Run.objects.count() == 1


def test_nobody_else_sees_creates_or_deletes_a_teams_triggers(
    alice: User, alice_client: Client
) -> None:
    team = make_supervisor_team(alice)
    trigger = create(alice_client, team)
    bob = Client()
    bob.force_login(make_user("bob"))

    assert bob.get(f"/api/teams/{team.id}/triggers").status_code == 404
    assert (
        bob.post(f"/api/teams/{team.id}/triggers", {}, content_type="application/json").status_code
        == 404
    )
    assert bob.delete(f"/api/triggers/{trigger['id']}").status_code == 404
    assert alice_client.delete(f"/api/triggers/{trigger['id']}").status_code == 204
    # A deleted trigger's URL starts nothing, even with the right signature.
    assert call(trigger, BODY).status_code == 404
    assert not Trigger.objects.exists() and not Run.objects.exists()


def test_a_team_has_at_most_fifty_triggers(alice: User, alice_client: Client) -> None:
    team = make_supervisor_team(alice)
    for _ in range(50):
        create(alice_client, team)

    response = alice_client.post(
        f"/api/teams/{team.id}/triggers", {}, content_type="application/json"
    )

    assert response.status_code == 422
    assert "at most 50 triggers" in response.json()["detail"]
    assert Trigger.objects.count() == 50


def test_a_switched_off_owner_starts_no_run(alice: User, alice_client: Client) -> None:
    # The operator switches an account off: its API tokens stop at once, but its triggers
    # (and schedules, which start runs through the same function) kept spending on it.
    trigger = create(alice_client, make_supervisor_team(alice))
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    response = call(trigger, BODY)

    assert response.status_code == 422, response.content
    assert "may no longer start the team's runs" in response.json()["detail"]
    assert not Run.objects.exists()
