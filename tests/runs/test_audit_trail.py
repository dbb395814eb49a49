"""The audit trail verifies, names the first event that was changed or removed, and exports
every event with its hash."""

import csv
import io
import json

import pytest
from django.db import transaction

from runs.actions import append
from runs.audit import csv_lines, jsonl_lines, verify
from runs.models import Run, RunEvent
from tests.factories import append_event, make_event, make_run, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def run() -> Run:
    run = make_run(make_user())
    with transaction.atomic():
        append(
            run,
            [
                make_event(
                    "message", key=f"m{n}", agent="analyst", payload={"content": f"step {n}"}
                )
                for n in range(1, 6)
            ],
        )
    return run


def test_an_untouched_trail_verifies(run: Run) -> None:
    result = verify(run)
    assert (result["ok"], result["events"], result["signed_seq"]) == (True, 5, 5)
    assert result["head"]["seq"] == 5


def test_an_empty_trail_verifies() -> None:
    result = verify(make_run(make_user()))
    assert (result["ok"], result["events"], result["head"]) == (True, 0, None)


def test_events_of_a_run_still_executing_are_not_yet_vouched_for(run: Run) -> None:
    # The run's executor has written two more events since its head was last signed.
    Run.objects.filter(id=run.id).update(status=Run.Status.RUNNING)
    append_event(run, "message", "analyst", payload={"content": "step 6"})
    append_event(run, "message", "analyst", payload={"content": "step 7"})

    result = verify(run)
    assert (result["ok"], result["events"], result["signed_seq"]) == (True, 7, 5)
    assert "events 6 to 7 will be when it stops" in result["note"]


def test_a_run_that_never_stopped_has_no_head_yet() -> None:
    run = make_run(make_user(), status=Run.Status.RUNNING)
    append_event(run, "run.started")
    result = verify(run)
    assert (result["ok"], result["signed_seq"]) == (True, None)
    assert result["note"].startswith("No signed head yet")


def test_a_changed_payload_is_named_by_its_seq(run: Run) -> None:
    # Someone edits the stored payload directly in the database.
    RunEvent.objects.filter(run=run, seq=3).update(payload={"content": "step 3, rewritten"})

    result = verify(run)
    assert result["ok"] is False
    assert result["first_bad_seq"] == 3
    assert result["events"] == 5
    assert "changed" in result["reason"]


def test_a_changed_type_or_agent_is_caught_too(run: Run) -> None:
    RunEvent.objects.filter(run=run, seq=4).update(agent="someone else")
    assert verify(run)["first_bad_seq"] == 4


def test_a_removed_event_is_named(run: Run) -> None:
    RunEvent.objects.filter(run=run, seq=2)._raw_delete(RunEvent.objects.db)
    result = verify(run)
    assert (result["ok"], result["first_bad_seq"]) == (False, 2)
    assert "missing" in result["reason"]


def test_events_refuse_to_be_edited_through_the_model(run: Run) -> None:
    event = RunEvent.objects.get(run=run, seq=1)
    event.payload = {"content": "forged"}
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        event.delete()


def test_jsonl_export_has_every_event_with_its_hash_then_the_signed_head(run: Run) -> None:
    *lines, last = [json.loads(line) for line in "".join(jsonl_lines(run)).splitlines()]
    assert [e["seq"] for e in lines] == [1, 2, 3, 4, 5]
    assert lines[0]["payload"] == {"content": "step 1"}
    assert lines[-1]["hash"] == RunEvent.objects.get(run=run, seq=5).hash
    assert last == {"signed_head": Run.objects.get(id=run.id).audit_head}
    assert (last["signed_head"]["seq"], last["signed_head"]["hash"]) == (5, lines[-1]["hash"])


def test_csv_export_has_a_header_a_row_per_event_and_the_signed_head(run: Run) -> None:
    *rows, last = list(csv.DictReader(io.StringIO("".join(csv_lines(run)))))
    assert len(rows) == 5
    assert rows[1]["agent"] == "analyst"
    assert json.loads(rows[1]["payload"]) == {"content": "step 2"}
    assert last["type"] == "signed_head"
    assert json.loads(last["payload"]) == Run.objects.get(id=run.id).audit_head
