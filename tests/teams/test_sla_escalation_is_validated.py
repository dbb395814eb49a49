"""A team's escalation (``sla.escalations``) is checked like the rest of the team: a bad one
is reported on the field that is wrong, in words that say what to do, and blocks saving."""

from typing import Any

from teams.spec import dump, parse
from teams.validation import Problem, parse_with_problems, validate
from tests.factories import supervisor_spec


def with_escalations(*rules: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    document = supervisor_spec(**overrides)
    document["nodes"].append({"kind": "human", "id": "manager", "name": "Duty manager"})
    document["sla"] = {"escalations": list(rules)}
    return document


def problems_of(document: dict[str, Any]) -> list[Problem]:
    spec, problems = parse_with_problems(document)
    return problems if spec is None else validate(spec)


def only(problems: list[Problem], code: str) -> Problem:
    (problem,) = [p for p in problems if p.code == code]
    return problem


def test_a_team_may_hand_work_to_an_agent_or_a_person_and_notify():
    document = with_escalations(
        {"priorities": ["urgent"], "hand_to": "manager", "notify_webhooks": True},
        {"priorities": ["high"], "hand_to": "worker", "raise_priority_to": "urgent"},
    )
    assert problems_of(document) == []
    # The declaration survives a save: what the builder and export write.
    assert dump(parse(document))["sla"]["escalations"][0]["hand_to"] == "manager"


def test_a_team_without_escalation_keeps_its_old_shape():
    assert "sla" not in dump(parse(supervisor_spec()))


def test_an_unknown_agent_is_reported_on_the_field():
    problem = only(problems_of(with_escalations({"hand_to": "ghost"})), "unknown_escalation_target")

    assert problem.severity == "error"
    assert problem.path == "sla.escalations.0.hand_to"
    assert "'ghost', which is not a node of this team" in problem.message


def test_handing_work_to_a_nested_team_is_refused():
    document = with_escalations({"hand_to": "support"})
    document["nodes"].append({"kind": "team", "id": "support", "name": "Support", "team_id": 7})
    document["edges"].append(
        {"id": "e2", "source": "lead", "target": "support", "kind": "delegates"}
    )
    problem = only(problems_of(document), "escalation_to_team")

    assert problem.path == "sla.escalations.0.hand_to" and problem.node == "support"
    assert "agent or a person" in problem.message


def test_an_escalation_that_does_nothing_is_an_error():
    problem = only(
        problems_of(with_escalations({"priorities": ["urgent"]})), "escalation_does_nothing"
    )

    assert problem.severity == "error" and problem.path == "sla.escalations.0"
    assert "Hand the work to someone, raise the priority or notify the webhooks" in problem.message


def test_a_priority_the_input_never_has_is_a_warning():
    schema = {"type": "object", "properties": {"priority": {"enum": ["urgent", "normal"]}}}
    document = with_escalations({"priorities": ["urgnet"], "notify_webhooks": True},
                                input_schema=schema)  # fmt: skip
    problem = only(problems_of(document), "unknown_priority")

    assert problem.severity == "warning" and problem.path == "sla.escalations.0.priorities"
    assert "'urgnet'" in problem.message and "normal, urgent" in problem.message


def test_an_escalation_shadowed_by_an_earlier_one_is_a_warning():
    document = with_escalations(
        {"notify_webhooks": True},  # every priority
        {"priorities": ["urgent"], "hand_to": "manager"},
    )
    problem = only(problems_of(document), "escalation_never_applies")

    assert problem.path == "sla.escalations.1" and "every priority" in problem.message


def test_a_misspelt_field_is_located_not_dropped():
    problems = problems_of(with_escalations({"hnad_to": "manager"}))

    assert [p.path for p in problems if p.severity == "error"] == ["sla.escalations.0.hnad_to"]


def test_a_blank_raised_priority_is_refused():
    problems = problems_of(with_escalations({"raise_priority_to": ""}))

    assert "sla.escalations.0.raise_priority_to" in [p.path for p in problems]


def test_a_person_only_reached_by_escalation_is_not_unreachable():
    # 'manager' has no edge: it runs only when the service level passes.
    problems = problems_of(with_escalations({"hand_to": "manager"}))

    assert [p for p in problems if p.code == "unreachable"] == []


def test_escalations_of_a_nested_team_are_said_to_be_unused():
    nested = with_escalations({"hand_to": "manager"})
    document = supervisor_spec()
    document["nodes"].append({"kind": "team", "id": "desk", "name": "Desk", "spec": nested})
    document["edges"].append({"id": "e2", "source": "lead", "target": "desk", "kind": "delegates"})

    problem = only(problems_of(document), "nested_escalation_unused")

    assert problem.severity == "warning" and problem.node == "desk"
    assert problem.path == "nodes.2.spec.sla"
