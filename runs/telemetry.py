"""OpenTelemetry: one trace per run, built from its stored events when the run ends.

Off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, and then free: ``export_run`` returns before
importing anything of the SDK. When on, the run's events become spans with their real
timestamps, nested as the engine nested them (``span_id``/``parent_span_id``):

    run <team>                      the whole run
      invoke_agent <agent>          one agent working on one task
        turn <n>                    one model turn
          chat <model>              the model call (GenAI semantic conventions)
          execute_tool <tool>       a tool call, or a delegation to another agent, nested below

The OTel span ids are the events' span ids and the trace id is the run's UUID, so a span found
in a tracing UI leads straight to the run and its audit trail.
"""

from __future__ import annotations

import contextvars
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

from runs.engine import events as ev
from runs.engine.events import span_id_for

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger(__name__)

SERVICE_NAME = "agent-team-orchestrator"
_next_ids: contextvars.ContextVar[tuple[int, int]] = contextvars.ContextVar("otel_next_ids")


def enabled() -> bool:
    return bool(settings.OTEL_EXPORTER_OTLP_ENDPOINT)


def export_run(run: Any, events: Iterable[Any] | None = None) -> None:
    """Export ``run``'s trace. The shell calls it once, when the run has ended: the spans are
    complete only then, and a trace backend would show a second export as duplicate spans."""
    if not enabled() or not run.is_finished:
        return
    try:
        stored = list(events) if events is not None else list(run.events.order_by("seq"))
        emit_trace(run, [SpanEvent.of(event) for event in stored], tracer_provider())
    except Exception:  # telemetry must never fail a run
        log.exception("Could not export the trace of run %s", run.id)


@cache
def tracer_provider() -> TracerProvider:
    """The process's provider, made on first use, exporting over OTLP/HTTP."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = new_provider()
    exporter = OTLPSpanExporter(endpoint=traces_endpoint())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def traces_endpoint() -> str:
    """The SDK's own rule: a traces-specific endpoint as is, else ``<endpoint>/v1/traces``."""
    specific = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return specific or settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"


def new_provider() -> TracerProvider:
    """A provider whose span and trace ids are the ones ``emit_trace`` chooses."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class EventIdGenerator(RandomIdGenerator):
        def generate_span_id(self) -> int:
            return _next_ids.get()[1]

        def generate_trace_id(self) -> int:
            return _next_ids.get()[0]

    resource = Resource.create({"service.name": SERVICE_NAME})
    return TracerProvider(resource=resource, id_generator=EventIdGenerator())


# --- from events to spans ---------------------------------------------------------------


@dataclass(frozen=True)
class SpanEvent:
    """What a span needs from one stored event (a ``RunEvent``, an engine ``Event`` or a dict)."""

    type: str
    key: str
    ts_ns: int
    agent: str
    span_id: str
    parent_span_id: str
    payload: dict[str, Any]

    @classmethod
    def of(cls, event: Any) -> SpanEvent:
        get = event.get if isinstance(event, dict) else lambda name: getattr(event, name, None)
        ts = get("ts")
        seconds = ts.timestamp() if isinstance(ts, datetime) else float(ts)
        return cls(
            type=get("type"),
            key=get("key") or "",
            ts_ns=int(seconds * 1_000_000_000),
            agent=get("agent") or "",
            span_id=get("span_id") or "",
            parent_span_id=get("parent_span_id") or "",
            payload=get("payload") or {},
        )


@dataclass
class SpanPlan:
    span_id: str
    parent_id: str | None
    name: str = "span"
    start_ns: int = 0
    end_ns: int = 0
    attributes: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def plan_spans(run: Any, events: Sequence[SpanEvent]) -> list[SpanPlan]:
    """The spans of a run, parents before children, each with its name, times and attributes."""
    root = SpanPlan(span_id_for("run"), None, f"run {run.team_name}")
    root.attributes = {
        "orchestrator.run.id": str(run.id),
        "orchestrator.team.name": run.team_name,
        "orchestrator.run.status": run.status,
        "gen_ai.operation.name": "invoke_workflow",
    }
    plans: dict[str, SpanPlan] = {root.span_id: root}
    for event in events:
        if event.span_id and event.span_id not in plans:
            plans[event.span_id] = SpanPlan(event.span_id, event.parent_span_id or root.span_id)
        plan = plans.get(event.span_id, root)
        _stretch(plan, event.ts_ns)
        _describe(plan, event)
    model_calls = [_model_call(plans, events, i) for i, e in enumerate(events) if _is_answer(e)]
    ordered = _parents_first(plans)
    _cover_children(ordered, plans)
    return ordered + [call for call in model_calls if call is not None]


def _stretch(plan: SpanPlan, ts_ns: int) -> None:
    plan.start_ns = min(plan.start_ns, ts_ns) if plan.start_ns else ts_ns
    plan.end_ns = max(plan.end_ns, ts_ns)


def _describe(plan: SpanPlan, event: SpanEvent) -> None:
    payload = event.payload
    if event.type == ev.AGENT_STARTED:
        plan.name = f"invoke_agent {event.agent}"
        plan.attributes |= {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": event.agent,
        }
    elif event.type == ev.AGENT_FINISHED and payload.get("status") == "failed":
        plan.error = str(payload.get("reason") or "The agent failed.")
    elif event.type == ev.TURN_STARTED:
        plan.name = f"turn {payload.get('turn')}"
        plan.attributes |= {
            "gen_ai.agent.name": event.agent,
            "orchestrator.turn": payload.get("turn"),
        }
    elif event.type == ev.TOOL_CALL:
        tool = str(payload.get("tool"))
        plan.name = f"execute_tool {tool}"
        plan.attributes |= {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": tool,
            "gen_ai.tool.call.id": str(payload.get("call_id")),
        }
    elif event.type == ev.TOOL_RESULT and not payload.get("ok", True):
        plan.error = str(payload.get("error") or "The tool failed.")
    elif event.type in (ev.RUN_FAILED, ev.RUN_CANCELLED):
        plan.error = str(payload.get("reason") or event.type)


def _is_answer(event: SpanEvent) -> bool:
    return event.type == ev.MESSAGE and event.payload.get("role") == "assistant"


def _model_call(
    plans: dict[str, SpanPlan], events: Sequence[SpanEvent], index: int
) -> SpanPlan | None:
    """A model call is one assistant message: it began at the previous event of its turn (the
    turn's start, or the tool results it answers) and ended when the answer was recorded."""
    answer = events[index]
    if answer.span_id not in plans:
        return None
    start = answer.ts_ns
    for earlier in reversed(events[:index]):
        if earlier.span_id == answer.span_id or earlier.parent_span_id == answer.span_id:
            start = earlier.ts_ns
            break
    usage = next((e for e in events if e.type == ev.USAGE and e.key == f"{answer.key}#usage"), None)
    response = answer.payload.get("response") or {}
    tokens = (usage.payload if usage else response.get("usage")) or {}
    model = str(usage.payload.get("model")) if usage else ""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "offline" if answer.payload.get("simulated") else "openai",
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": int(tokens.get("input_tokens") or 0),
        "gen_ai.usage.output_tokens": int(tokens.get("output_tokens") or 0),
        "gen_ai.agent.name": answer.agent,
    }
    if response.get("finish_reason"):
        attributes["gen_ai.response.finish_reasons"] = [str(response["finish_reason"])]
    return SpanPlan(
        span_id_for(answer.key), answer.span_id, f"chat {model}".strip(), start, answer.ts_ns,
        attributes,
    )  # fmt: skip


def _parents_first(plans: dict[str, SpanPlan]) -> list[SpanPlan]:
    ordered: list[SpanPlan] = []
    seen: set[str] = set()

    def visit(plan: SpanPlan) -> None:
        if plan.span_id in seen:
            return
        seen.add(plan.span_id)
        parent = plans.get(plan.parent_id or "")
        if parent is None and plan.parent_id:
            plan.parent_id = span_id_for("run")  # an orphan hangs off the run
        elif parent is not None:
            visit(parent)
        ordered.append(plan)

    for plan in plans.values():
        visit(plan)
    return ordered


def _cover_children(ordered: list[SpanPlan], plans: dict[str, SpanPlan]) -> None:
    """A parent lasts at least as long as its children (an agent's last turn ends after its
    agent.finished event's parent span began)."""
    for plan in reversed(ordered):
        parent = plans.get(plan.parent_id or "")
        if parent is not None:
            parent.start_ns = min(parent.start_ns or plan.start_ns, plan.start_ns)
            parent.end_ns = max(parent.end_ns, plan.end_ns)


def emit_trace(run: Any, events: Sequence[SpanEvent], provider: TracerProvider) -> None:
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import Status, StatusCode

    tracer = provider.get_tracer("orchestrator.runs")
    started: list[tuple[SpanPlan, Any]] = []
    spans: dict[str, Any] = {}
    for plan in plan_spans(run, events):
        parent = spans.get(plan.parent_id or "")
        # A run's trace stands alone, whatever span happens to be current in this process.
        context = trace.set_span_in_context(parent) if parent is not None else Context()
        token = _next_ids.set((run.id.int, int(plan.span_id, 16)))
        try:
            span = tracer.start_span(
                plan.name, context=context, start_time=plan.start_ns, attributes=plan.attributes
            )
        finally:
            _next_ids.reset(token)
        if plan.error:
            span.set_status(Status(StatusCode.ERROR, plan.error))
        spans[plan.span_id] = span
        started.append((plan, span))
    # Ending hands the spans to the batch processor, which exports them from its own thread:
    # the run's executor never waits on the collector.
    for plan, span in reversed(started):
        span.end(end_time=plan.end_ns)
