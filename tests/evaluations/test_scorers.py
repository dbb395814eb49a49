"""Scorers give 0..1 with a reason a person can act on; bad scorer definitions are refused
when the experiment is created, not when the first item ends."""

import json
import time
from typing import Any

import pytest
from pydantic import ValidationError

from evaluations import judging
from evaluations.scorers import SPECS, score
from runs.wiring import model_registries
from tests.factories import make_model_config, make_user
from tests.support.openai_server import Reply
from workspaces.models import personal_workspace


def one(spec: dict[str, Any], output: Any, expected: Any = None) -> tuple[float, str]:
    result = score(SPECS.validate_python([spec])[0], output, expected)
    return result.score, result.reason


def test_exact_compares_the_text_trimmed() -> None:
    assert one({"kind": "exact"}, " Paris\n", "Paris")[0] == 1.0
    assert one({"kind": "exact"}, "paris", "Paris")[0] == 0.0
    assert "no expected output" in one({"kind": "exact"}, "x", None)[1]


def test_json_equal_on_chosen_fields_with_numeric_tolerance() -> None:
    spec = {"kind": "json_equal", "fields": ["total", "currency"], "tolerance": 0.01}
    assert (
        one(
            spec,
            '{"total": 10.004, "currency": "EUR", "note": "x"}',
            {"total": 10, "currency": "EUR"},
        )[0]
        == 1.0
    )
    value, reason = one(spec, {"total": 10.5, "currency": "EUR"}, {"total": 10, "currency": "EUR"})
    assert value == 0.0 and "total" in reason
    nested, where = one({"kind": "json_equal"}, {"a": [1, {"b": 2}]}, {"a": [1, {"b": 3}]})
    assert nested == 0.0 and "a[1].b" in where
    assert one({"kind": "json_equal"}, {"a": True}, {"a": 1})[0] == 0.0  # true is not 1
    assert one(spec, "plain text", {"total": 1})[0] == 0.0


def test_json_schema_names_where_the_output_misses() -> None:
    spec = {
        "kind": "json_schema",
        "schema": {
            "type": "object",
            "required": ["answer"],
            "properties": {"answer": {"type": "string"}},
        },
    }
    assert one(spec, '{"answer": "yes"}')[0] == 1.0
    value, reason = one(spec, {"answer": 3})
    assert value == 0.0 and "answer" in reason
    with pytest.raises(ValidationError, match="not valid"):
        SPECS.validate_python([{"kind": "json_schema", "schema": {"type": "nonsense"}}])


def test_contains_and_numeric() -> None:
    assert one({"kind": "contains", "text": "REFUND"}, "We issued a refund.")[0] == 1.0
    assert one({"kind": "contains", "text": "REFUND", "case_sensitive": True}, "a refund")[0] == 0.0
    assert one({"kind": "contains"}, "the answer is 42", "42")[0] == 1.0
    assert one({"kind": "numeric", "tolerance": 0.5}, "41.6", 42)[0] == 1.0
    value, reason = one({"kind": "numeric", "field": "n", "tolerance": 0.1}, {"n": 40}, {"n": 42})
    assert value == 0.0 and "2 away" in reason
    assert "holds no number" in one({"kind": "numeric"}, "forty-two", 42)[1]


def test_regex_is_linear_time_and_refuses_what_re2_cannot_run() -> None:
    # Catastrophic for a backtracking engine; RE2 answers at once.
    began = time.monotonic()
    assert one({"kind": "regex", "pattern": "^(a+)+$"}, "a" * 5000 + "!")[0] == 0.0
    assert time.monotonic() - began < 0.5
    assert one({"kind": "regex", "pattern": r"\d{3}-\d{4}"}, "call 555-1234")[0] == 1.0
    with pytest.raises(ValidationError, match="RE2 cannot compile"):
        SPECS.validate_python([{"kind": "regex", "pattern": r"(a)\1"}])


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValidationError):
        SPECS.validate_python([{"kind": "vibes"}])


@pytest.mark.django_db
def test_the_offline_judge_gives_a_deterministic_verdict() -> None:
    workspace = personal_workspace(make_user())
    spec = SPECS.validate_python([{"kind": "judge", "rubric": "Polite?", "model": "offline"}])[0]
    models = model_registries([workspace.pk])[workspace.pk]
    first = judging.judge(spec, models, {"q": "hi"}, "Hello!", None)
    again = judging.judge(spec, models, {"q": "hi"}, "Hello!", None)
    assert first == again
    assert 0.0 <= first.score.score <= 1.0 and first.score.reason
    assert first.cost_usd == 0  # the simulator is free


@pytest.mark.django_db
def test_a_judge_must_name_a_model_of_the_workspace() -> None:
    workspace = personal_workspace(make_user())
    spec = SPECS.validate_python([{"kind": "judge", "rubric": "Polite?", "model": "gpt-nowhere"}])
    with pytest.raises(judging.UnknownModel, match="gpt-nowhere"):
        judging.check_models(spec, workspace)


@pytest.mark.django_db(transaction=True)
async def test_a_model_judges_with_structured_output(openai_server: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    from asgiref.sync import sync_to_async

    openai_server.on(
        lambda r: "Hello there" in str(r),
        Reply.text('{"score": 0.75, "reason": "Polite but vague."}'),
    )
    alice = await sync_to_async(make_user)()
    await sync_to_async(make_model_config)(alice, openai_server.base_url, name="grader")
    workspace = await sync_to_async(personal_workspace)(alice)
    models = (await sync_to_async(model_registries)([workspace.pk]))[workspace.pk]
    spec = SPECS.validate_python(
        [{"kind": "judge", "rubric": "Polite and precise?", "model": "grader"}]
    )[0]
    verdict = await sync_to_async(judging.judge, thread_sensitive=False)(
        spec, models, "hi", "Hello there", None
    )
    assert (verdict.score.score, verdict.score.reason) == (0.75, "Polite but vague.")
    sent = openai_server.log[0]
    assert "Polite and precise?" in str(sent) and "Hello there" in str(sent)
    # Out of shape: a score above 1 is a 0 that says why.
    openai_server.on(lambda r: "rambling" in str(r), Reply.text('{"score": 7, "reason": "!"}'))
    bad = await sync_to_async(judging.judge, thread_sensitive=False)(spec, models, "hi", "x", None)
    assert bad.score.score == 0.0 and "out of shape" in bad.score.reason


@pytest.mark.django_db(transaction=True)
async def test_the_judges_of_a_step_are_asked_together_a_few_at_a_time(
    openai_server: Any, monkeypatch: Any
) -> None:
    """An experiment's step judges every item that ended with it: together, not one after
    another (25 items on a judge that answers in 2 s: 50 s), and no more than
    ``JUDGES_AT_ONCE`` at a time. Each verdict comes back to its own case."""
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test")
    monkeypatch.setattr(judging, "JUDGES_AT_ONCE", 3)
    from asgiref.sync import sync_to_async

    in_flight: list[int] = []

    def verdict(request: Any) -> Reply:
        # Asked while how many others were still unanswered (this one included)?
        in_flight.append(len(openai_server.log) - len(openai_server.completed()))
        case = json.loads(request.user)
        score = int(case["output"].split()[-1]) / 10
        return Reply.text(json.dumps({"score": score, "reason": case["output"]}), delay_s=0.5)

    openai_server.on(lambda r: "You grade the output" in r.system, verdict)
    alice = await sync_to_async(make_user)()
    await sync_to_async(make_model_config)(alice, openai_server.base_url, name="grader")
    workspace = await sync_to_async(personal_workspace)(alice)
    models = (await sync_to_async(model_registries)([workspace.pk]))[workspace.pk]
    spec = SPECS.validate_python([{"kind": "judge", "rubric": "Good?", "model": "grader"}])[0]
    cases = [judging.Case(spec, models, "task", f"answer {n}", None) for n in range(5)]

    verdicts = await sync_to_async(judging.judge_many, thread_sensitive=False)(cases)

    assert [v.score.reason for v in verdicts] == [f"answer {n}" for n in range(5)]
    assert [v.score.score for v in verdicts] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert max(in_flight) == 3  # three at once, never a fourth


def test_a_reason_never_quotes_a_whole_long_output() -> None:
    # The JSON Schema scorer's reason quoted the failing value: here 50,000 characters a score.
    spec = SPECS.validate_python([{"kind": "json_schema", "schema": {"type": "integer"}}])[0]
    stored = score(spec, "a" * 50_000, None).to_dict()
    assert stored["score"] == 0.0
    assert stored["reason"].startswith("The output misses the schema at the top level: 'aaa")
    assert len(stored["reason"]) <= 1000 and stored["reason"].endswith("…")
