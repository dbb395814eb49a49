"""The runs API: the shapes of the contract, state changes of cancel and answer, replay and
fork, and nothing of another user's runs (404 everywhere)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.test import Client, TestCase

from runs.actions import append
from runs.models import Run, RunEvent
from tests.factories import make_event, make_run, make_team, make_user, minimal_spec

pytestmark = pytest.mark.django_db

RUN_FIELDS = {
    "id", "team_id", "team_name", "team_version", "status", "input", "output", "failure_reason",
    "waiting_for", "wake_at", "created_at", "started_at", "finished_at", "input_tokens", "output_tokens",
    "cost_usd", "last_seq", "pending_human", "artifacts", "started_by", "archived_at",
    "archive_url",
}  # fmt: skip


def post(alice_client: Client, url: str, body: Any = None) -> Any:
    # The test's transaction never commits: run what would run on commit (the dispatch).
    with TestCase.captureOnCommitCallbacks(execute=True):
        return alice_client.post(url, json.dumps(body or {}), content_type="application/json")


def record(run: Run, *events: Any) -> None:
    with transaction.atomic():
        append(run, list(events))


def waiting_run(owner: Any, answer_schema: dict[str, Any] | None = None, **fields: Any) -> Run:
    run = make_run(owner, status=Run.Status.WAITING, waiting_for="review/0", **fields)
    record(
        run,
        make_event("run.started", key="run", payload={"input": {}}),
        make_event(
            "human.requested",
            key="review/0",
            agent="reviewer",
            payload={
                "activity_key": "review/0",
                "node": "reviewer",
                "prompt": "Approve?",
                "answer_schema": answer_schema,
                "kind": "human",
            },
        ),
    )
    return run


def test_starting_a_run_pins_the_spec_and_enqueues_it(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    team = make_team(alice)
    response = post(
        alice_client, f"/api/teams/{team.id}/runs", {"input": {"task": "Compare Q1 and Q2"}}
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RUN_FIELDS
    assert (body["status"], body["team_id"], body["team_version"]) == ("queued", team.id, 1)
    assert body["started_by"] == ""  # a person started it
    assert body["input"] == {"task": "Compare Q1 and Q2"}
    assert dispatched == [body["id"]]
    assert Run.objects.get(id=body["id"]).spec["nodes"][0]["id"] == "lead"


def test_an_invalid_team_version_is_refused_with_its_problems(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    team = make_team(alice, minimal_spec(entry=None), draft=True)
    response = post(alice_client, f"/api/teams/{team.id}/runs", {"input": "go"})
    assert response.status_code == 422
    assert "no_entry" in [p["code"] for p in response.json()["problems"]]
    assert "fix them" in response.json()["detail"]
    assert not Run.objects.exists() and dispatched == []


def test_an_unknown_version_is_404(alice_client: Client, alice: Any, dispatched: list[str]) -> None:
    team = make_team(alice)
    assert post(alice_client, f"/api/teams/{team.id}/runs", {"version": 7}).status_code == 404


def test_anonymous_callers_get_401() -> None:
    assert Client().get("/api/runs").status_code == 401


def test_the_list_is_paginated_and_filtered(alice_client: Client, alice: Any) -> None:
    for _ in range(3):
        make_run(alice, status=Run.Status.SUCCEEDED)
    make_run(alice, status=Run.Status.FAILED)
    make_run(make_user("bob"))

    everything = alice_client.get("/api/runs").json()
    assert everything["count"] == 4 and len(everything["items"]) == 4
    failed = alice_client.get("/api/runs?status=failed").json()
    assert [r["status"] for r in failed["items"]] == ["failed"]
    assert alice_client.get("/api/runs?since=2999-01-01T00:00:00Z").json()["count"] == 0
    assert alice_client.get("/api/runs?status=exploded").status_code == 422


def test_events_come_after_a_seq_in_order(alice_client: Client, alice: Any) -> None:
    run = make_run(alice)
    record(run, *[make_event(key=f"k{n}") for n in range(6)])
    events = alice_client.get(f"/api/runs/{run.id}/events?after_seq=2&limit=3").json()
    assert [e["seq"] for e in events] == [3, 4, 5]
    assert alice_client.get(f"/api/runs/{run.id}").json()["last_seq"] == 6


def test_cancelling_a_queued_run_ends_it_at_once(alice_client: Client, alice: Any) -> None:
    run = make_run(alice)
    body = post(alice_client, f"/api/runs/{run.id}/cancel").json()
    assert body["status"] == "cancelled"
    assert "alice" in body["failure_reason"]
    assert RunEvent.objects.get(run=run).type == "run.cancelled"


def test_cancelling_a_running_run_asks_its_executor(alice_client: Client, alice: Any) -> None:
    run = make_run(alice, status=Run.Status.RUNNING)
    assert post(alice_client, f"/api/runs/{run.id}/cancel").json()["status"] == "running"
    run.refresh_from_db()
    assert run.cancel_requested


def test_cancelling_an_ended_run_is_a_conflict(alice_client: Client, alice: Any) -> None:
    run = make_run(alice, status=Run.Status.SUCCEEDED)
    response = post(alice_client, f"/api/runs/{run.id}/cancel")
    assert response.status_code == 409
    assert "already ended" in response.json()["detail"]


def test_a_waiting_run_shows_what_it_asks(alice_client: Client, alice: Any) -> None:
    run = waiting_run(alice)
    pending = alice_client.get(f"/api/runs/{run.id}").json()["pending_human"]
    assert pending == {
        "activity_key": "review/0",
        "node": "reviewer",
        "prompt": "Approve?",
        "answer_schema": None,
        "kind": "human",
    }


def test_an_answer_is_recorded_and_resumes_the_run(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    run = waiting_run(alice)
    body = post(alice_client, f"/api/runs/{run.id}/answer", {"answer": "Approved"}).json()

    assert (body["status"], body["pending_human"]) == ("queued", None)
    answered = RunEvent.objects.get(run=run, type="human.answered")
    assert answered.key == "review/0#answered"
    assert answered.payload == {"activity_key": "review/0", "answer": "Approved", "by": "alice"}
    assert dispatched == [str(run.id)]


def test_a_waiting_run_says_until_when_it_waits_for_the_answer(
    alice_client: Client, alice: Any
) -> None:
    run = waiting_run(alice, wake_at=datetime(2031, 5, 4, 9, 30, tzinfo=UTC))
    assert alice_client.get(f"/api/runs/{run.id}").json()["wake_at"] == "2031-05-04T09:30:00Z"

    # Woken (queued again) it waits for nobody.
    Run.objects.filter(id=run.id).update(status=Run.Status.QUEUED)
    assert alice_client.get(f"/api/runs/{run.id}").json()["wake_at"] is None


def test_an_answer_or_a_cancel_clears_when_the_run_is_to_be_woken(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    answered = waiting_run(alice, wake_at=datetime(2031, 5, 4, 9, 30, tzinfo=UTC))
    cancelled = waiting_run(alice, wake_at=datetime(2031, 5, 4, 9, 30, tzinfo=UTC))

    post(alice_client, f"/api/runs/{answered.id}/answer", {"answer": "Approved"})
    post(alice_client, f"/api/runs/{cancelled.id}/cancel")

    assert list(Run.objects.filter(wake_at__isnull=False)) == []
    assert dispatched == [str(answered.id)]


def test_an_answer_that_does_not_fit_the_schema_changes_nothing(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    run = waiting_run(
        alice,
        answer_schema={
            "type": "object",
            "required": ["approved"],
            "properties": {"approved": {"type": "boolean"}},
        },
    )
    response = post(alice_client, f"/api/runs/{run.id}/answer", {"answer": {"approved": "maybe"}})

    assert response.status_code == 422
    assert "does not fit" in response.json()["detail"]
    run.refresh_from_db()
    assert run.status == "waiting" and dispatched == []
    assert not RunEvent.objects.filter(run=run, type="human.answered").exists()


def test_answering_a_run_that_does_not_wait_is_a_conflict(alice_client: Client, alice: Any) -> None:
    run = make_run(alice, status=Run.Status.RUNNING)
    assert post(alice_client, f"/api/runs/{run.id}/answer", {"answer": "yes"}).status_code == 409


def test_verify_names_a_tampered_event(alice_client: Client, alice: Any) -> None:
    run = make_run(alice)
    record(run, *[make_event(key=f"k{n}", payload={"n": n}) for n in range(4)])
    verified = alice_client.get(f"/api/runs/{run.id}/verify").json()
    assert verified == {
        "ok": True,
        "events": 4,
        "first_bad_seq": None,
        "reason": None,
        "signed_seq": 4,
        "note": None,
        "head": Run.objects.get(id=run.id).audit_head,
    }

    RunEvent.objects.filter(run=run, seq=2).update(payload={"n": 99})
    result = alice_client.get(f"/api/runs/{run.id}/verify").json()
    assert (result["ok"], result["first_bad_seq"]) == (False, 2)


def test_audit_exports_download(alice_client: Client, alice: Any) -> None:
    run = make_run(alice)
    record(run, make_event(key="a"), make_event(key="b"))
    jsonl = alice_client.get(f"/api/runs/{run.id}/audit.jsonl")
    assert jsonl["Content-Disposition"] == f'attachment; filename="run-{run.id}.jsonl"'
    lines = b"".join(jsonl.streaming_content).splitlines()
    assert len(lines) == 3  # two events and the signed head
    assert json.loads(lines[-1])["signed_head"]["seq"] == 2
    csv = alice_client.get(f"/api/runs/{run.id}/audit.csv")
    assert b"".join(csv.streaming_content).startswith(b"seq,ts,type,key")


def test_fork_keeps_the_events_up_to_a_seq(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    run = make_run(alice, status=Run.Status.SUCCEEDED)
    record(run, *[make_event(key=f"k{n}") for n in range(5)], make_event("run.finished", key="end"))

    response = post(
        alice_client, f"/api/runs/{run.id}/fork", {"from_seq": 3, "input": {"task": "again"}}
    )
    assert response.status_code == 201, response.content
    fork = Run.objects.get(id=response.json()["id"])
    assert (fork.source_run_id, fork.forked_at_seq, fork.input) == (run.id, 3, {"task": "again"})
    assert list(fork.events.values_list("key", flat=True)) == ["k0", "k1", "k2"]
    assert alice_client.get(f"/api/runs/{fork.id}/verify").json()["ok"]
    assert dispatched == [str(fork.id)]


def test_fork_past_the_end_is_refused(alice_client: Client, alice: Any) -> None:
    run = make_run(alice, status=Run.Status.SUCCEEDED)
    response = post(alice_client, f"/api/runs/{run.id}/fork", {"from_seq": 9})
    assert response.status_code == 422
    assert "fork from one of them" in response.json()["detail"]


def test_replay_reuses_every_recorded_result_but_the_ending(
    alice_client: Client, alice: Any, dispatched: list[str]
) -> None:
    run = make_run(alice, status=Run.Status.SUCCEEDED)
    record(run, make_event(key="k0"), make_event("run.finished", key="end"))
    response = post(alice_client, f"/api/runs/{run.id}/replay")
    assert response.status_code == 201
    replay = Run.objects.get(id=response.json()["id"])
    assert (replay.input, replay.seed) == (run.input, run.seed)
    assert list(replay.events.values_list("key", flat=True)) == ["k0"]


def test_replaying_a_run_that_has_not_ended_is_a_conflict(alice_client: Client, alice: Any) -> None:
    run = make_run(alice, status=Run.Status.RUNNING)
    assert post(alice_client, f"/api/runs/{run.id}/replay").status_code == 409


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "", None),
        ("get", "/events", None),
        ("post", "/cancel", {}),
        ("post", "/answer", {"answer": "yes"}),
        ("get", "/audit.jsonl", None),
        ("get", "/audit.csv", None),
        ("get", "/verify", None),
        ("post", "/replay", {}),
        ("post", "/fork", {"from_seq": 0}),
    ],
)
def test_another_users_run_is_404_everywhere(
    alice_client: Client, method: str, path: str, body: Any
) -> None:
    bobs = make_run(make_user("bob"), status=Run.Status.WAITING)
    url = f"/api/runs/{bobs.id}{path}"
    response = alice_client.get(url) if method == "get" else post(alice_client, url, body)
    assert response.status_code == 404
    bobs.refresh_from_db()
    assert bobs.status == "waiting" and not bobs.cancel_requested


def test_a_malformed_run_id_is_404(alice_client: Client) -> None:
    assert alice_client.get("/api/runs/not-a-uuid").status_code == 404


def test_another_users_team_cannot_be_run(alice_client: Client, dispatched: list[str]) -> None:
    team = make_team(make_user("bob"))
    assert post(alice_client, f"/api/teams/{team.id}/runs", {"input": "x"}).status_code == 404


def test_an_artifact_is_served_to_its_owner_only(
    alice_client: Client, alice: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    from runs.wiring import RunArtifacts

    run = make_run(alice)
    artifact = RunArtifacts(run)._save("chart.png", b"\x89PNG fake", "image/png")
    listed = alice_client.get(f"/api/runs/{run.id}").json()["artifacts"]
    assert listed == [
        {
            "id": str(artifact.id),
            "name": "chart.png",
            "content_type": "image/png",
            "size": 9,
            "url": f"/api/artifacts/{artifact.id}",
            "inline": True,
        }
    ]

    response = alice_client.get(f"/api/artifacts/{artifact.id}")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == b"\x89PNG fake"

    bob = Client()
    bob.force_login(make_user("bob"))
    assert bob.get(f"/api/artifacts/{artifact.id}").status_code == 404
