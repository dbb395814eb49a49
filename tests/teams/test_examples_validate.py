"""The TeamSpec examples in docs/examples/ parse and validate cleanly, one per pattern."""

import json
from pathlib import Path

import pytest

from runs.engine.tools import builtin_registry
from teams.spec import TeamNode, dump, parse
from teams.validation import ValidationContext, validate

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def test_there_is_one_example_per_pattern_and_a_hybrid() -> None:
    specs = {path.stem: parse(json.loads(path.read_text())) for path in EXAMPLES.glob("*.json")}
    assert {name: spec.pattern for name, spec in specs.items()} == {
        "supervisor": "supervisor",
        "pipeline": "pipeline",
        "swarm": "swarm",
        "hybrid": "supervisor",
    }
    assert any(edge.gate for edge in specs["pipeline"].edges)
    assert any(isinstance(node, TeamNode) and node.spec for node in specs["hybrid"].nodes)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_each_example_validates_without_problems(path: Path) -> None:
    document = json.loads(path.read_text())
    context = ValidationContext(known_tools=frozenset(builtin_registry().names()))
    spec = parse(document)
    assert validate(spec, context) == []
    assert parse(dump(spec)) == spec  # the canonical form reads back the same
