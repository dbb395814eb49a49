"""A finished run's trace reaches an OTLP/HTTP collector with the run > agent > turn > model
call / tool call nesting and the GenAI attribute names; with no endpoint nothing is loaded."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from runs import telemetry
from runs.engine.events import Event, span_id_for
from runs.models import Run
from tests.factories import make_run_of, make_supervisor_team, make_user
from tests.ops.helpers import store_events, supervisor_events, wait_until


def attributes(span: Any) -> dict[str, Any]:
    def value(v: Any) -> Any:
        kind = v.WhichOneof("value")
        if kind == "array_value":
            return [value(item) for item in v.array_value.values]
        return getattr(v, kind)

    return {kv.key: value(kv.value) for kv in span.attributes}


@pytest.mark.django_db
def test_it_exports_the_spans_of_a_supervisor_run_with_parents_and_genai_attributes(
    otel_on: list[Any],
) -> None:
    # A supervisor run has finished: the lead delegated to the researcher, who used a tool.
    run = make_run_of(make_supervisor_team(make_user()), status=Run.Status.SUCCEEDED)
    events = supervisor_events()
    stored = store_events(run, events)

    telemetry.export_run(run)
    telemetry.tracer_provider().force_flush()

    # Nine spans from the events (run, 2 agents, 4 turns, 2 tool calls) and 4 model calls.
    spans = wait_until(lambda: otel_on if len(otel_on) >= 13 else None, "the trace to arrive")
    assert len(spans) == 13
    by_name = {span.name: span for span in spans}
    ids = {span.span_id.hex(): span for span in spans}
    assert {span.trace_id.hex() for span in spans} == {run.id.hex}

    def parent_name(span: Any) -> str | None:
        parent = ids.get(span.parent_span_id.hex())
        return parent.name if parent else None

    # The nesting: run > lead > turn 1 > (chat, delegation) > researcher > turn > calculator.
    root = by_name["run Research desk"]
    assert root.parent_span_id == b""
    lead = by_name["invoke_agent lead"]
    assert parent_name(lead) == "run Research desk"
    delegation = by_name["execute_tool delegate_to_researcher"]
    assert ids[delegation.parent_span_id.hex()].parent_span_id.hex() == lead.span_id.hex()
    researcher = by_name["invoke_agent researcher"]
    assert researcher.parent_span_id == delegation.span_id
    calculator = by_name["execute_tool calculator"]
    assert ids[calculator.parent_span_id.hex()].parent_span_id == researcher.span_id
    assert lead.span_id.hex() == span_id_for("run/lead")

    # Model calls: four, each a child of a turn, with the GenAI semantic-convention names.
    chats = [span for span in spans if span.name == "chat offline"]
    assert len(chats) == 4
    assert all(ids[c.parent_span_id.hex()].name.startswith("turn ") for c in chats)
    lead_turn_1 = span_id_for("run/lead/t1")
    first = attributes(next(c for c in chats if c.parent_span_id.hex() == lead_turn_1))
    usage = next(e for e in events if e.key == "run/lead/t1/model#usage").payload
    assert first["gen_ai.operation.name"] == "chat"
    assert first["gen_ai.request.model"] == "offline"
    assert first["gen_ai.usage.input_tokens"] == usage["input_tokens"] > 0
    assert first["gen_ai.usage.output_tokens"] == usage["output_tokens"] > 0
    assert first["gen_ai.system"] == "offline"
    assert attributes(calculator)["gen_ai.tool.name"] == "calculator"
    # The offline model's calculator call failed: its span says so, with the tool's error.
    calculator_result = next(
        e for e in events if e.type == "tool.result" and e.payload["tool"] == "calculator"
    )
    assert (
        calculator.status.code == 2
        and calculator.status.message == calculator_result.payload["error"]
    )
    assert attributes(lead)["gen_ai.operation.name"] == "invoke_agent"

    # Real timestamps: the run span covers its first and last events, children fit inside.
    assert root.start_time_unix_nano == int(stored[0].ts.timestamp() * 1e9)
    assert root.end_time_unix_nano == int(stored[-1].ts.timestamp() * 1e9)
    for span in spans:
        parent = ids.get(span.parent_span_id.hex())
        if parent is not None:
            assert parent.start_time_unix_nano <= span.start_time_unix_nano
            assert span.end_time_unix_nano <= parent.end_time_unix_nano


@pytest.mark.django_db
def test_it_marks_a_failed_run_span_as_an_error(otel_on: list[Any]) -> None:
    run = make_run_of(make_supervisor_team(make_user()), status=Run.Status.FAILED)
    events = supervisor_events()
    reason = {"reason": "The lead ran out of turns.", "error_type": "limit"}
    failed = Event("run.failed", "run:failed", events[-1].ts, None, events[0].span_id, None, reason)
    store_events(run, [*events[:5], failed])

    telemetry.export_run(run)
    telemetry.tracer_provider().force_flush()

    spans = wait_until(lambda: otel_on if otel_on else None, "the trace to arrive")
    root = next(span for span in spans if span.name == "run Research desk")
    assert root.status.code == 2  # STATUS_CODE_ERROR
    assert root.status.message == "The lead ran out of turns."


def test_it_loads_nothing_of_the_sdk_when_no_endpoint_is_set() -> None:
    # A fresh interpreter exports a run with the endpoint unset: no opentelemetry module loads.
    code = (
        "import django, os, sys, types, uuid;"
        "os.environ.pop('OTEL_EXPORTER_OTLP_ENDPOINT', None);"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'orchestration_site.settings');"
        "os.environ.setdefault('SECRET_KEY', 'x');"
        "django.setup();"
        "from runs import telemetry;"
        "run = types.SimpleNamespace(id=uuid.uuid4(), events=None);"
        "telemetry.export_run(run, []);"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
