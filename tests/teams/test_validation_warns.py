"""The static checks beyond shape come back as warnings beside the errors, and never block."""

from typing import Any

from teams.spec import parse
from teams.validation import Problem, ValidationContext, has_errors, validate
from tests.factories import minimal_spec, supervisor_spec


def problems_of(document: dict[str, Any]) -> list[Problem]:
    return validate(parse(document), ValidationContext(known_tools=frozenset({"calculator"})))


def warnings(problems: list[Problem], code: str) -> list[tuple[str | None, str | None, str | None]]:
    return [
        (p.node, p.edge, p.path) for p in problems if p.code == code and p.severity == "warning"
    ]


def swarm(*handoffs: tuple[str, str], max_hops: int | None = 10) -> dict[str, Any]:
    ids = sorted({n for pair in handoffs for n in pair}, key=lambda n: (n != "a", n))
    return minimal_spec(
        "swarm",
        entry="a",
        nodes=[{"kind": "agent", "id": i, "name": i, "instructions": "Help."} for i in ids],
        edges=[
            {"id": f"{s}-{t}", "source": s, "target": t, "kind": "handoff"} for s, t in handoffs
        ],
        limits={"max_hops": max_hops},
    )


def test_it_warns_about_a_swarm_circle_no_agent_can_leave() -> None:
    problems = problems_of(swarm(("a", "b"), ("b", "a")))
    assert warnings(problems, "swarm_no_finisher") == [("a", None, "nodes.0")]
    assert not has_errors(problems)


def test_a_swarm_with_an_agent_that_only_answers_is_fine() -> None:
    problems = problems_of(swarm(("a", "b"), ("b", "a"), ("b", "closer")))
    assert warnings(problems, "swarm_no_finisher") == []


def test_it_warns_about_a_swarm_without_a_hop_limit() -> None:
    problems = problems_of(swarm(("a", "b"), ("b", "c"), max_hops=None))
    assert warnings(problems, "uncapped_loop") == [(None, None, "limits.max_hops")]


def test_it_warns_about_a_gate_without_a_cap() -> None:
    spec = minimal_spec(
        "pipeline",
        entry="a",
        nodes=[
            {"kind": "agent", "id": n, "name": n, "instructions": "Work."} for n in ("a", "b", "r")
        ],
        edges=[
            {
                "id": "ab",
                "source": "a",
                "target": "b",
                "kind": "next",
                "gate": {"kind": "reviewer", "reviewer": "r", "max_attempts": None},
            }
        ],
    )
    problems = problems_of(spec)
    assert warnings(problems, "uncapped_gate") == [(None, "ab", "edges.0.gate.max_attempts")]
    assert not has_errors(problems)


def test_it_warns_about_a_worker_with_no_turn_left_to_report_back() -> None:
    spec = supervisor_spec()
    spec["nodes"][1].update(
        tools=["calculator"], instructions="Use the calculator.", limits={"max_turns": 1}
    )
    assert warnings(problems_of(spec), "worker_cannot_report") == [("worker", None, "nodes.1")]


def test_it_warns_about_a_worker_that_outlives_its_supervisor() -> None:
    spec = supervisor_spec()
    spec["nodes"][0]["limits"] = {"timeout_s": 60}
    spec["nodes"][1]["limits"] = {"timeout_s": 600}
    problems = problems_of(spec)
    assert warnings(problems, "worker_cannot_report") == [("worker", None, "nodes.1")]
    assert "gives up after 60 s" in problems[0].message


def test_it_warns_about_a_tool_the_instructions_never_mention() -> None:
    spec = supervisor_spec()
    spec["nodes"][1]["tools"] = ["calculator"]
    assert warnings(problems_of(spec), "tool_not_mentioned") == [
        ("worker", None, "nodes.1.tools.0")
    ]
    spec["nodes"][1]["instructions"] = "Check every sum with the Calculator."
    assert warnings(problems_of(spec), "tool_not_mentioned") == []
