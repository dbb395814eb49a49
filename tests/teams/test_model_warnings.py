"""The builder warns, from the model catalogue, about an agent given tools on a model that
cannot call them, an output schema on a model without structured output, and instructions
that fill its model's context window; models the catalogue does not know are left alone."""

from __future__ import annotations

from typing import Any

import pytest

from runs.engine.models.catalogue import Entry
from teams.model_warnings import model_capabilities, model_warnings, unknown_fallback_models
from teams.models import ModelConfig
from teams.spec import parse
from tests.factories import make_agent, make_spec

pytestmark = pytest.mark.django_db
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}}


def warnings_for(owner: Any, **agent: Any) -> list[tuple[str, str]]:
    spec = parse(make_spec("supervisor", [make_agent("writer", **agent)]))
    return [
        (p.code, p.path) for p in model_warnings(spec, model_capabilities(owner.personal_workspace))
    ]


def test_tools_on_a_model_that_cannot_call_them_are_a_warning() -> None:
    plain = Entry(provider="openai", model="plain", input=0, output=0, context_window=8192,
                  tools=False, structured_output=True, vision=False)  # fmt: skip
    spec = parse(make_spec("supervisor", [make_agent("w", model="plain", tools=["calculator"])]))

    [problem] = model_warnings(spec, {"plain": plain})

    assert (problem.severity, problem.code, problem.path) == (
        "warning", "model_without_tools", "nodes.0.tools",
    )  # fmt: skip
    assert "cannot call tools" in problem.message


def test_a_schema_on_a_model_without_structured_output_is_a_warning(alice: Any) -> None:
    ModelConfig.objects.create(owner=alice, name="old", provider="openai", model="gpt-3.5-turbo")
    ModelConfig.objects.create(owner=alice, name="new", provider="openai", model="gpt-4.1-mini")
    assert warnings_for(alice, model="new", tools=["calculator"], output_schema=SCHEMA) == []
    assert warnings_for(alice, model="old", output_schema=SCHEMA) == [
        ("model_without_structured_output", "nodes.0.output_schema")
    ]


def test_a_dated_model_version_is_checked_against_its_family(alice: Any) -> None:
    ModelConfig.objects.create(owner=alice, name="haiku", provider="anthropic",
                               model="claude-3-5-haiku-20241022")  # fmt: skip

    assert warnings_for(alice, model="haiku", output_schema=SCHEMA) == [
        ("model_without_structured_output", "nodes.0.output_schema")
    ]


def test_instructions_that_fill_the_context_window_are_a_warning(alice: Any) -> None:
    ModelConfig.objects.create(owner=alice, name="small", provider="openai", model="gpt-3.5-turbo")

    assert warnings_for(alice, model="small", instructions="word " * 10_000) == [
        ("context_window", "nodes.0.instructions")
    ]
    assert warnings_for(alice, model="small", instructions="Be brief.") == []


def test_a_model_the_catalogue_does_not_know_is_not_warned_about(alice: Any) -> None:
    ModelConfig.objects.create(owner=alice, name="mine", provider="openai", model="llama3.2")

    assert warnings_for(alice, model="mine", tools=["calculator"], output_schema=SCHEMA) == []


def test_an_unknown_model_in_a_fallback_chain_is_an_error() -> None:
    agent = make_agent("w", fallback_models=["offline", "backup", "nowhere"])
    spec = parse(make_spec("supervisor", [agent]))

    [problem] = unknown_fallback_models(spec, frozenset({"backup"}))

    assert (problem.severity, problem.path) == ("error", "nodes.0.fallback_models.2")
    assert "'nowhere'" in problem.message
