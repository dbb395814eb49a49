"""Nested team references cannot make the server do exponential work: each referenced team is
looked up and validated once per request, and a team whose references, inlined, hold more
nodes than MAX_INLINED_NODES is refused with a located problem when it is saved, exported or
started (issue 16, finding 4: fan-out 20 at depth 4 took seconds to save and 25 s to export
a 386 MB body)."""

from typing import Any

import pytest
from django.test import Client

from runs.models import Run
from teams.models import Team
from teams.nesting import MAX_NESTING_DEPTH, TeamTooLarge, inline_team_refs
from teams.spec import TeamSpec, parse
from teams.validation import ValidationContext, validate
from tests.factories import minimal_spec

FAN_OUT = 20


def fanning_out(child_id: int, width: int = FAN_OUT) -> dict[str, Any]:
    """A supervisor whose lead delegates to ``width`` team nodes, all the same saved team."""
    spec = minimal_spec()
    spec["nodes"][0]["instructions"] = "Delegate to every team."
    for i in range(width):
        spec["nodes"].append({"kind": "team", "id": f"t{i}", "name": f"T{i}", "team_id": child_id})
        spec["edges"].append(
            {"id": f"e{i}", "source": "lead", "target": f"t{i}", "kind": "delegates"}
        )
    return spec


class CountingLookup:
    def __init__(self, saved: dict[int, dict[str, Any]]) -> None:
        self.saved = {team_id: parse(document) for team_id, document in saved.items()}
        self.calls: list[int] = []

    def __call__(self, team_id: int) -> TeamSpec | None:
        self.calls.append(team_id)
        return self.saved.get(team_id)


def levels(depth: int) -> dict[int, dict[str, Any]]:
    """Team 0 is one agent; team k fans out to team k-1."""
    return {0: minimal_spec(), **{k: fanning_out(k - 1) for k in range(1, depth + 1)}}


def test_each_referenced_team_is_looked_up_and_validated_once() -> None:
    lookup = CountingLookup(levels(2))  # inlined: 21 + 20 * (21 + 20 * (21 + 20)) nodes
    context = ValidationContext(lookup=lookup, max_inlined_nodes=20_000)

    problems = validate(parse(fanning_out(2)), context)

    assert [p for p in problems if p.severity == "error"] == []
    assert sorted(lookup.calls) == [0, 1, 2]


def test_a_team_past_the_cap_is_one_located_problem() -> None:
    lookup = CountingLookup(levels(3))  # fan-out 20 at depth 4

    problems = validate(parse(fanning_out(3)), ValidationContext(lookup=lookup))

    [problem] = problems
    assert problem.code == "team_too_large"
    assert (problem.node, problem.path) == ("t0", "nodes.1")
    assert "500" in problem.message and "MAX_INLINED_NODES" in problem.message


def test_a_circle_deep_in_the_references_is_found_once() -> None:
    # 1 -> 2 -> 3 -> 2, referred to twenty times from the top
    saved = {1: fanning_out(2, 1), 2: fanning_out(3, 1), 3: fanning_out(2, 1)}
    lookup = CountingLookup(saved)

    problems = validate(parse(fanning_out(1)), ValidationContext(lookup=lookup))

    cycles = [p for p in problems if p.code == "nesting_cycle"]
    assert [p.path for p in cycles] == [f"nodes.{i}.team_id" for i in range(1, FAN_OUT + 1)]
    assert "2 → 3 → 2" in cycles[0].message
    assert sorted(lookup.calls) == [1, 2, 3]


def test_references_nested_too_deep_are_reported_on_the_team_node() -> None:
    saved = {0: minimal_spec(), **{k: fanning_out(k - 1, 1) for k in range(1, 8)}}
    problems = validate(parse(fanning_out(6, 1)), ValidationContext(lookup=CountingLookup(saved)))
    assert [(p.code, p.path) for p in problems if p.severity == "error"] == [
        ("nesting_too_deep", "nodes.1")
    ]
    shallow = validate(
        parse(fanning_out(MAX_NESTING_DEPTH - 1, 1)),
        ValidationContext(lookup=CountingLookup(saved)),
    )
    assert [p for p in shallow if p.severity == "error"] == []


def test_inlining_refuses_past_the_cap_before_building_anything() -> None:
    lookup = CountingLookup(levels(3))
    with pytest.raises(TeamTooLarge, match="holds 336,841 nodes"):
        inline_team_refs(parse(fanning_out(3)), lookup)
    inlined = inline_team_refs(parse(fanning_out(0)), lookup)
    assert len(inlined.nodes) == 1 + FAN_OUT and inlined.nodes[1].spec.nodes[0].id == "lead"


# --- through the API ----------------------------------------------------------------------


def post(client: Client, url: str, body: Any) -> Any:
    return client.post(url, body, content_type="application/json")


def stored_before_the_cap(owner: Any, document: dict[str, Any]) -> int:
    """A team saved before the cap existed: in the database and marked valid."""
    team = Team(owner=owner, name="Old", pattern="supervisor")
    team.save_version(parse(document), by=owner, is_valid=True)
    return team.pk


@pytest.mark.django_db
def test_the_fan_out_attack_is_refused_when_saved_exported_and_started(
    alice: Any, alice_client: Client
) -> None:
    # Saving level by level through the API: the second level already passes the cap.
    leaf = post(alice_client, "/api/teams", {"name": "Leaf", "spec": minimal_spec()}).json()["id"]
    first = post(alice_client, "/api/teams", {"name": "L1", "spec": fanning_out(leaf)})
    assert first.status_code == 201, first.content
    second = post(
        alice_client, "/api/teams", {"name": "L2", "spec": fanning_out(first.json()["id"])}
    )
    assert second.status_code == 422
    [problem] = second.json()["problems"]
    assert (problem["code"], problem["path"]) == ("team_too_large", "nodes.1")

    # Fan-out 20 at depth 4, stored before the cap: 336,841 nodes once inlined.
    top = first.json()["id"]
    for _ in range(3):
        top = stored_before_the_cap(alice, fanning_out(top))

    shown = alice_client.get(f"/api/teams/{top}").json()
    assert [p["code"] for p in shown["problems"]] == ["team_too_large"]

    exported = alice_client.get(f"/api/teams/{top}/export")
    assert exported.status_code == 422
    assert exported.json()["problems"][0]["code"] == "team_too_large"

    started = post(alice_client, f"/api/teams/{top}/runs", {"input": "go"})
    assert started.status_code == 422
    assert started.json()["problems"][0]["code"] == "team_too_large"
    assert not Run.objects.exists()


@pytest.mark.django_db
def test_a_level_of_references_is_read_in_one_query(alice: Any, alice_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    leaves = [stored_before_the_cap(alice, minimal_spec()) for _ in range(FAN_OUT)]
    middle = stored_before_the_cap(alice, fanning_out(leaves[0]))
    document = fanning_out(middle)
    for i, leaf in enumerate(leaves[1:], start=1):
        document["nodes"][i + 1]["team_id"] = leaf  # t1..t19 name different saved teams

    with CaptureQueriesContext(connection) as queries:
        response = post(alice_client, "/api/teams/validate", document)

    assert response.json()["valid"] is True, response.json()
    reads = [q["sql"] for q in queries if 'FROM "teams_team"' in q["sql"]]
    assert len(reads) == 2  # the top's twenty references, then the middle team's one
