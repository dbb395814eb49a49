"""Someone with write access to the database cannot rewrite a run's trail and recompute the
hashes, cut its last events off, or sign a head of their own: ``verify`` says so in a
sentence, while an untouched trail verifies. Each run is executed for real; the attacks are
SQL on the tables, as an attacker holding the database's password would write it."""

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.db import connection
from django.test import Client

from runs import signing
from runs.engine.events import chain_hash
from runs.models import Run, RunEvent
from tests.factories import approval_pipeline_spec, make_team, supervisor_spec
from tests.runs.helpers import logged_in, start, wait_for_status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def on_a_thread(settings: Any) -> None:
    settings.RUN_EXECUTOR = "thread"


@pytest.fixture
def client(alice: Any) -> Client:
    client = logged_in(alice)
    client.session_user = alice  # type: ignore[attr-defined]
    return client


def finished_run(client: Client) -> str:
    run_id = start(client, make_team(client.session_user, supervisor_spec()).id, {"task": "Hi"})
    assert wait_for_status(run_id, "succeeded", "failed").status == "succeeded"
    return run_id


def verify(client: Client, run_id: str) -> dict[str, Any]:
    response = client.get(f"/api/runs/{run_id}/verify")
    assert response.status_code == 200
    return response.json()


# --- what an attacker with the database's password does ---------------------------------


def sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def rewrite(run_id: str, seq: int, payload: dict[str, Any]) -> None:
    """Change event ``seq``'s payload, then recompute its hash and every hash after it, so
    the chain holds again."""
    sql(f"UPDATE {RunEvent._meta.db_table} SET payload = %s WHERE run_id = %s AND seq = %s",
        [json.dumps(payload), run_id, seq])  # fmt: skip
    events = list(RunEvent.objects.filter(run_id=run_id).order_by("seq"))
    previous = events[seq - 2].hash if seq > 1 else "0" * 64
    for event in events[seq - 1 :]:
        previous = chain_hash(previous, event.hashed_fields())
        sql(f"UPDATE {RunEvent._meta.db_table} SET hash = %s WHERE id = %s", [previous, event.id])


def cut_tail(run_id: str, keep: int) -> None:
    sql(f"DELETE FROM {RunEvent._meta.db_table} WHERE run_id = %s AND seq > %s", [run_id, keep])


def set_head(run_id: str, head: Any) -> None:
    sql(f"UPDATE {Run._meta.db_table} SET audit_head = %s WHERE id = %s",
        [None if head is None else json.dumps(head), run_id])  # fmt: skip


def events_of(run_id: str) -> list[RunEvent]:
    return list(RunEvent.objects.filter(run_id=run_id).order_by("seq"))


# --- the attacks --------------------------------------------------------------------------


def test_an_untouched_run_verifies_with_a_signed_head(client: Client) -> None:
    run_id = finished_run(client)
    result = verify(client, run_id)
    last = events_of(run_id)[-1]
    assert (result["ok"], result["signed_seq"], result["events"]) == (True, last.seq, last.seq)
    head = result["head"]
    assert (head["run"], head["seq"], head["hash"]) == (run_id, last.seq, last.hash)


def test_a_rewritten_and_rehashed_trail_fails(client: Client) -> None:
    run_id = finished_run(client)
    # The attacker changes what the second event says and makes the chain hold again.
    rewrite(run_id, 2, {"forged": "the model said something else"})
    assert chain_hash("0" * 64, events_of(run_id)[0].hashed_fields()) == events_of(run_id)[0].hash

    result = verify(client, run_id)
    assert result["ok"] is False
    assert result["reason"].startswith("The events were rewritten:")
    assert "hashes recomputed" in result["reason"]


def test_a_truncated_trail_fails(client: Client) -> None:
    run_id = finished_run(client)
    total = len(events_of(run_id))
    # The attacker deletes the last two events (the ending, say) from the table.
    cut_tail(run_id, total - 2)

    result = verify(client, run_id)
    assert result["ok"] is False
    assert result["first_bad_seq"] == total - 1
    assert result["reason"].startswith(f"Events {total - 1} to {total} are missing")


def test_events_added_after_the_run_stopped_fail(client: Client) -> None:
    run_id = finished_run(client)
    last = events_of(run_id)[-1]
    # The attacker appends a well-chained event after the run's end.
    forged = RunEvent(run_id=run_id, seq=last.seq + 1, ts=last.ts, type="message", key="forged",
                      payload={"content": "I approve the transfer"})  # fmt: skip
    forged.hash = chain_hash(last.hash, forged.hashed_fields())
    forged.save()

    result = verify(client, run_id)
    assert result["ok"] is False
    assert result["reason"].startswith(f"Events {last.seq + 1} to {last.seq + 1} were added")


def test_a_head_signed_with_another_key_fails(client: Client) -> None:
    run_id = finished_run(client)
    rewrite(run_id, 2, {"forged": True})
    # The attacker signs the rewritten trail's head with a key of their own.
    last = events_of(run_id)[-1]
    theirs = Ed25519PrivateKey.generate()
    set_head(run_id, signing.sign_head(theirs, run_id, last.seq, last.hash, "2026-12-06T00:00:00"))

    result = verify(client, run_id)
    assert result["ok"] is False
    assert "signed with a key this server does not know" in result["reason"]


def test_a_head_that_claims_the_servers_key_but_is_signed_with_another_fails(
    client: Client,
) -> None:
    run_id = finished_run(client)
    cut_tail(run_id, 2)
    last, stored = events_of(run_id)[-1], Run.objects.get(id=run_id).audit_head
    forged = signing.sign_head(Ed25519PrivateKey.generate(), run_id, last.seq, last.hash, "now")
    set_head(run_id, forged | {"key_id": stored["key_id"]})

    result = verify(client, run_id)
    assert result["ok"] is False
    assert "does not match its signature" in result["reason"]


def test_a_head_copied_from_another_run_fails(client: Client) -> None:
    first, second = finished_run(client), finished_run(client)
    set_head(second, Run.objects.get(id=first).audit_head)
    result = verify(client, second)
    assert result["ok"] is False
    assert "belongs to another run" in result["reason"]


@pytest.mark.parametrize("garbage", ["not a head", [1, 2], {"seq": "many"}])
def test_a_head_replaced_by_anything_else_fails_with_a_sentence(
    client: Client, garbage: Any
) -> None:
    run_id = finished_run(client)
    set_head(run_id, garbage)
    result = verify(client, run_id)
    assert result["ok"] is False
    assert result["reason"].startswith("The run's signed head is not in a form this version knows")


def test_a_removed_head_says_no_signed_head(client: Client) -> None:
    run_id = finished_run(client)
    rewrite(run_id, 2, {"forged": True})
    set_head(run_id, None)

    result = verify(client, run_id)
    assert result["ok"] is False
    assert result["reason"].startswith("No signed head:")
    assert "sign_audit_heads" in result["reason"]


# --- every way a run stops signs its head --------------------------------------------------


def test_a_run_waiting_for_a_person_is_signed_and_so_is_its_answer_and_end(
    client: Client,
) -> None:
    run_id = start(client, make_team(client.session_user, approval_pipeline_spec()).id, "a post")
    wait_for_status(run_id, "waiting")
    waiting = verify(client, run_id)
    assert (waiting["ok"], waiting["signed_seq"]) == (True, waiting["events"])

    # A person answers; the run goes on to its end and is signed again.
    response = client.post(f"/api/runs/{run_id}/answer", json.dumps({"answer": "Approved"}),
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200
    wait_for_status(run_id, "succeeded")
    done = verify(client, run_id)
    assert (done["ok"], done["signed_seq"]) == (True, done["events"])
    assert done["signed_seq"] > waiting["signed_seq"]


def test_a_cancelled_waiting_run_is_signed(client: Client) -> None:
    run_id = start(client, make_team(client.session_user, approval_pipeline_spec()).id, "a post")
    wait_for_status(run_id, "waiting")
    assert client.post(f"/api/runs/{run_id}/cancel").status_code == 200

    result = verify(client, run_id)
    assert (result["ok"], result["signed_seq"]) == (True, result["events"])
    assert events_of(run_id)[-1].type == "run.cancelled"


# --- keys -----------------------------------------------------------------------------------


def raw_public(key: Any) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def test_the_public_key_is_published_without_logging_in(settings: Any) -> None:
    response = Client().get("/api/audit/public-key")
    assert response.status_code == 200
    body = response.json()
    current = settings.AUDIT_SIGNING_KEY.public_key()
    assert body["key_id"] == signing.key_id(current)
    assert body["algorithm"] == "Ed25519"
    assert signing.public_keys(body["public_key_pem"])[0] == current
    assert [key["key_id"] for key in body["keys"]] == [body["key_id"]]


def test_heads_signed_with_a_retired_key_verify_while_it_is_listed(
    client: Client, settings: Any
) -> None:
    run_id = finished_run(client)
    old = settings.AUDIT_SIGNING_KEY
    # The operator rotates: a new signing key, the old public key listed for verification.
    settings.AUDIT_SIGNING_KEY = Ed25519PrivateKey.generate()
    settings.AUDIT_VERIFY_KEYS = signing.public_keys(raw_public(old.public_key()))
    assert verify(client, run_id)["ok"] is True
    published = Client().get("/api/audit/public-key").json()
    assert [k["current"] for k in published["keys"]] == [True, False]
    assert published["keys"][1]["key_id"] == signing.key_id(old.public_key())

    # Once it is no longer listed, nothing vouches for those heads.
    settings.AUDIT_VERIFY_KEYS = []
    result = verify(client, run_id)
    assert result["ok"] is False
    assert "AUDIT_VERIFY_KEYS" in result["reason"]
