"""validate() finds every problem the issue lists, each on the right node, edge and path."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from teams.spec import parse
from teams.validation import Problem, ValidationContext, validate
from tests.factories import expert_question_spec, minimal_spec, supervisor_spec

TOOLS = frozenset({"calculator"})


def problems_of(document: dict[str, Any], **context: Any) -> list[Problem]:
    context.setdefault("known_tools", TOOLS)
    return validate(parse(document), ValidationContext(**context))


def find(problems: list[Problem], code: str) -> list[tuple[str | None, str | None, str | None]]:
    return [(p.node, p.edge, p.path) for p in problems if p.code == code]


def agent(node_id: str, **fields: Any) -> dict[str, Any]:
    return {"kind": "agent", "id": node_id, "name": node_id.title(), **fields}


def edge(edge_id: str, source: str, target: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"id": edge_id, "source": source, "target": target, "kind": kind, **fields}


def pipeline(*nodes: dict[str, Any], edges: list[dict[str, Any]]) -> dict[str, Any]:
    return minimal_spec("pipeline", entry=nodes[0]["id"], nodes=list(nodes), edges=edges)


def test_a_valid_team_has_no_problems() -> None:
    assert problems_of(supervisor_spec()) == []


def test_it_reports_a_team_without_an_entry() -> None:
    problems = problems_of(supervisor_spec(entry=None))
    assert find(problems, "no_entry") == [(None, None, "entry")]
    assert find(problems, "unreachable") == []  # one cause, one problem


def test_it_reports_an_entry_that_does_not_exist() -> None:
    assert find(problems_of(supervisor_spec(entry="ghost")), "unknown_entry") == [
        (None, None, "entry")
    ]


def test_it_reports_an_unreachable_agent_on_that_agent() -> None:
    spec = supervisor_spec()
    spec["nodes"].append(agent("writer"))
    problems = problems_of(spec)
    assert find(problems, "unreachable") == [("writer", None, "nodes.2")]
    message = next(p.message for p in problems if p.code == "unreachable")
    assert "'writer' can never run" in message and "Connect it or remove it" in message


def test_it_reports_a_cycle_in_a_pipeline_on_the_edge_that_closes_it() -> None:
    spec = pipeline(
        agent("a"),
        agent("b"),
        agent("c"),
        edges=[
            edge("ab", "a", "b", "next"),
            edge("bc", "b", "c", "next"),
            edge("ca", "c", "a", "next"),
        ],
    )
    assert find(problems_of(spec), "pipeline_cycle") == [(None, "ca", "edges.2")]


@pytest.mark.parametrize(("pattern", "kind"), [("supervisor", "delegates"), ("swarm", "handoff")])
def test_it_reports_a_delegation_or_handoff_to_an_agent_that_does_not_exist(
    pattern: str, kind: str
) -> None:
    spec = minimal_spec(pattern, edges=[edge("e1", "lead", "ghost", kind)])
    problems = problems_of(spec)
    assert find(problems, "unknown_target") == [(None, "e1", "edges.0.target")]
    assert "'ghost', which does not exist" in problems[0].message


def test_it_reports_an_unknown_tool_on_the_agent_and_the_tool() -> None:
    spec = supervisor_spec()
    spec["nodes"][1]["tools"] = ["calculator", "teleport"]
    spec["nodes"][1]["instructions"] = "Use the calculator, then teleport."
    assert find(problems_of(spec), "unknown_tool") == [("worker", None, "nodes.1.tools.1")]


def test_it_accepts_tools_of_a_declared_mcp_server_only() -> None:
    spec = supervisor_spec(mcp_servers=[{"name": "files", "transport": "stdio", "server": "files"}])
    spec["nodes"][1]["tools"] = ["files.read", "web.fetch"]
    spec["nodes"][1]["instructions"] = "Read with read, fetch with fetch."
    assert find(problems_of(spec), "unknown_tool") == [("worker", None, "nodes.1.tools.1")]


def test_it_reports_an_unknown_model_and_knows_the_users_models() -> None:
    spec = supervisor_spec()
    spec["nodes"][0]["model"] = "gpt-4o"
    assert find(problems_of(spec), "unknown_model") == [("lead", None, "nodes.0.model")]
    assert find(problems_of(spec, known_models=frozenset({"gpt-4o"})), "unknown_model") == []


def test_it_reports_an_output_schema_that_is_not_json_schema() -> None:
    spec = supervisor_spec()
    spec["nodes"][1]["output_schema"] = {"type": "sandwich"}
    assert find(problems_of(spec), "invalid_schema") == [("worker", None, "nodes.1.output_schema")]


def test_it_reports_a_bad_gate_schema_on_the_edge() -> None:
    spec = pipeline(
        agent("a"),
        agent("b"),
        edges=[edge("ab", "a", "b", "next", gate={"kind": "schema", "schema": {"required": "x"}})],
    )
    assert find(problems_of(spec), "invalid_schema") == [(None, "ab", "edges.0.gate.schema")]


def test_it_reports_a_team_that_includes_itself() -> None:
    spec = supervisor_spec()
    spec["nodes"].append({"kind": "team", "id": "me-again", "name": "Me", "team_id": 7})
    spec["edges"].append(edge("e2", "lead", "me-again", "delegates"))
    lookup = {7: parse(supervisor_spec())}.get
    assert find(problems_of(spec, team_id=7, lookup=lookup), "nesting_cycle") == [
        ("me-again", None, "nodes.2.team_id")
    ]


def test_it_reports_a_circle_through_other_saved_teams() -> None:
    # team 1 includes team 2, which includes team 1 again
    def including(other: int) -> dict[str, Any]:
        spec = supervisor_spec()
        spec["nodes"].append({"kind": "team", "id": "sub", "name": "Sub", "team_id": other})
        spec["edges"].append(edge("e2", "lead", "sub", "delegates"))
        return spec

    saved = {1: parse(including(2)), 2: parse(including(1))}
    assert find(problems_of(including(1), lookup=saved.get), "nesting_cycle") == [
        ("sub", None, "nodes.2.team_id")
    ]


def test_it_reports_a_nested_teams_problem_on_the_team_node() -> None:
    inner = minimal_spec("pipeline", entry=None)
    spec = supervisor_spec()
    spec["nodes"].append({"kind": "team", "id": "sub", "name": "Sub", "spec": inner})
    spec["edges"].append(edge("e2", "lead", "sub", "delegates"))
    assert find(problems_of(spec), "no_entry") == [("sub", None, "nodes.2.spec.entry")]


def test_it_reports_a_reference_to_a_team_that_does_not_exist() -> None:
    spec = supervisor_spec()
    spec["nodes"].append({"kind": "team", "id": "sub", "name": "Sub", "team_id": 99})
    spec["edges"].append(edge("e2", "lead", "sub", "delegates"))
    assert find(problems_of(spec, lookup={}.get), "unknown_team") == [
        ("sub", None, "nodes.2.team_id")
    ]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda s: s["nodes"][1].update(limits={"max_turns": 0}), "nodes.1.limits.max_turns"),
        (lambda s: s["nodes"][1].update(limits={"timeout_s": -5}), "nodes.1.limits.timeout_s"),
        (lambda s: s["nodes"][1].update(limits={"max_retries": 99}), "nodes.1.limits.max_retries"),
        (lambda s: s.update(limits={"timeout_s": 0}), "limits.timeout_s"),
        (lambda s: s.update(limits={"budget_warning_ratio": 3}), "limits.budget_warning_ratio"),
    ],
)
def test_it_reports_limits_out_of_range(
    change: Callable[[dict[str, Any]], None], path: str
) -> None:
    spec = supervisor_spec()
    change(spec)
    found = find(problems_of(spec), "limit_out_of_range")
    assert [where[2] for where in found] == [path]
    assert found[0][0] == ("worker" if path.startswith("nodes") else None)


@pytest.mark.parametrize("timeout_s", [0, -1, 0.5, 30 * 86_400 + 1, float("nan"), float("inf")])
def test_it_reports_a_human_timeout_out_of_range(timeout_s: float) -> None:
    spec = expert_question_spec(timeout_s)
    assert find(problems_of(spec), "limit_out_of_range") == [("expert", None, "nodes.1.timeout_s")]
    assert problems_of(expert_question_spec(1)) == []


def test_it_reports_duplicate_ids() -> None:
    spec = supervisor_spec()
    spec["nodes"].append(agent("worker"))
    assert find(problems_of(spec), "duplicate_id") == [("worker", None, "nodes.2.id")]


def test_it_reports_an_edge_kind_the_pattern_does_not_use() -> None:
    spec = supervisor_spec()
    spec["edges"][0]["kind"] = "handoff"
    assert find(problems_of(spec), "wrong_edge_kind") == [(None, "e1", "edges.0.kind")]


def test_it_reports_gates_off_pipeline_edges_and_reviewers_that_do_not_exist() -> None:
    spec = supervisor_spec()
    spec["edges"][0]["gate"] = {"kind": "reviewer", "reviewer": "nobody"}
    problems = problems_of(spec)
    assert find(problems, "gate_not_allowed") == [(None, "e1", "edges.0.gate")]
    assert find(problems, "unknown_reviewer") == [(None, "e1", "edges.0.gate.reviewer")]


def test_it_reports_fallbacks_to_nowhere_and_to_itself() -> None:
    spec = supervisor_spec()
    spec["nodes"][0]["fallback"] = "lead"
    spec["nodes"][1]["fallback"] = "ghost"
    problems = problems_of(spec)
    assert find(problems, "fallback_self") == [("lead", None, "nodes.0.fallback")]
    assert find(problems, "unknown_fallback") == [("worker", None, "nodes.1.fallback")]


def test_errors_come_before_warnings_and_every_problem_is_reported_at_once() -> None:
    spec = supervisor_spec(entry=None)
    spec["nodes"][1]["model"] = "nope"
    spec["nodes"][1]["tools"] = ["calculator"]
    problems = problems_of(spec)
    assert {p.code for p in problems} == {"no_entry", "unknown_model", "tool_not_mentioned"}
    assert [p.severity for p in problems] == ["error", "error", "warning"]


def test_validation_does_not_change_the_spec() -> None:
    document = supervisor_spec()
    spec = parse(copy.deepcopy(document))
    validate(spec, ValidationContext(known_tools=TOOLS))
    assert spec == parse(document)
