// The timeline is derived from events alone: agent spans (agent.started .. agent.finished) are
// swimlane bars, turn spans inside them are nested bars, and the moments that matter (tool
// calls, delegations, handoffs, retries, errors, human waits, gates, fallbacks) are markers.
import { endStatus, terminalEvent } from "./derive";
import { agentName, escalationText, retryNumber } from "./feed";
import { toolCallKey } from "./toolCalls";
import { type AgentNames, eventTime, type RunEvent, type RunStatus } from "./types";

export type MarkerKind =
  | "tool"
  | "delegation"
  | "handoff"
  | "retry"
  | "error"
  | "human"
  | "gate"
  | "fallback";

export interface Bar {
  id: string;
  kind: "agent" | "turn";
  agent: string;
  label: string;
  start: number;
  /** null while still running */
  end: number | null;
  /** "cancelled": still working when the run was cancelled */
  status: "running" | "ok" | "failed" | "cancelled";
  events: RunEvent[];
}

export interface Marker {
  id: string;
  kind: MarkerKind;
  agent: string;
  label: string;
  at: number;
  events: RunEvent[];
}

export interface Lane {
  /** the agent's id, as events name it */
  agent: string;
  /** the name people gave it */
  name: string;
  bars: Bar[];
  turns: Bar[];
  markers: Marker[];
}

export interface Timeline {
  start: number;
  end: number;
  lanes: Lane[];
}

export const RUN_LANE = "(run)";

const MARKER_KINDS: Record<string, MarkerKind> = {
  "tool.call": "tool",
  delegation: "delegation",
  handoff: "handoff",
  retry: "retry",
  "rate_limit.waiting": "retry",
  "circuit.waiting": "retry",
  error: "error",
  "activity.failed": "error",
  "run.failed": "error",
  "human.requested": "human",
  "gate.passed": "gate",
  "gate.failed": "gate",
  fallback: "fallback",
  "sla.breached": "error",
  "sla.escalated": "fallback",
};

function text(value: unknown): string {
  return typeof value === "string" ? value : value == null ? "" : JSON.stringify(value);
}

function markerLabel(event: RunEvent, names: AgentNames): string {
  const p = event.payload;
  switch (event.type) {
    case "tool.call":
      return `tool ${text(p.tool)}`;
    case "delegation":
      return `delegates to ${agentName(names, p.to)}`;
    case "handoff":
      return `hands off to ${agentName(names, p.to)}`;
    case "retry":
      return `retry ${retryNumber(p)}`;
    case "rate_limit.waiting":
      return `waits ${text(p.wait_s)} s for the rate limit`;
    case "circuit.waiting":
      return `waits ${text(p.wait_s)} s for ${text(p.model)}'s circuit to half-open`;
    case "human.requested":
      return "waits for a person";
    case "gate.passed":
      return `gate passed: ${text(p.edge)}`;
    case "gate.failed":
      return `gate failed: ${text(p.edge)}`;
    case "fallback":
      return p.kind === "model"
        ? `model ${text(p.from)} → ${text(p.to)}${p.circuit_open === true ? " (circuit open)" : ""}: ${text(p.reason)}`
        : `falls back to ${agentName(names, p.to)}`;
    case "sla.breached":
      return `service level passed (${text(p.priority)}, ${text(p.deadline_s)} s)`;
    case "sla.escalated":
      return escalationText(p, names);
    default:
      return `${event.type}: ${text(p.message ?? p.reason ?? p.error)}`;
  }
}

function laneOf(lanes: Map<string, Lane>, agent: string | null, names: AgentNames): Lane {
  const id = agent || RUN_LANE;
  let lane = lanes.get(id);
  if (!lane) {
    // The run's own events (started, failed, ...) get a lane called what it is, not its key.
    const name = id === RUN_LANE ? "Run" : agentName(names, id);
    lane = { agent: id, name, bars: [], turns: [], markers: [] };
    lanes.set(id, lane);
  }
  return lane;
}

function barStatusAtTheEnd(run: RunStatus | null): Bar["status"] {
  if (run === "succeeded") return "ok";
  return run === "cancelled" ? "cancelled" : "failed";
}

/** Agents still working when the run ended (it failed or was cancelled around them) stop
 * there: their bars end with the run, not at the time the page is looked at. */
function closeAtTheEnd(events: RunEvent[], bars: Iterable<Bar>): void {
  const end = terminalEvent(events);
  if (!end) return;
  const status = barStatusAtTheEnd(endStatus(events));
  for (const bar of bars) {
    if (bar.end === null) {
      bar.end = eventTime(end.ts);
      bar.status = status;
    }
  }
}

/** Lanes (one per agent, in order of first appearance), bars and markers from events. */
export function buildTimeline(events: RunEvent[], now: number, names: AgentNames = {}): Timeline {
  const lanes = new Map<string, Lane>();
  const agentSpans = new Map<string, Bar>();
  const turnsBySpan = new Map<string, Bar[]>();
  const turnsById = new Map<string, Bar>();
  const toolMarkers = new Map<string, Marker>();
  let first = Infinity;
  let last = -Infinity;

  for (const event of events) {
    const at = eventTime(event.ts);
    first = Math.min(first, at);
    last = Math.max(last, at);
    const lane = laneOf(lanes, event.agent, names);
    const kind = MARKER_KINDS[event.type];

    if (event.type === "agent.started" && event.span_id) {
      const label = `${lane.name}: ${text(event.payload.task).slice(0, 80)}`;
      const bar: Bar = {
        id: event.span_id, kind: "agent", agent: lane.agent, label,
        start: at, end: null, status: "running", events: [event],
      }; // prettier-ignore
      agentSpans.set(event.span_id, bar);
      lane.bars.push(bar);
    } else if (event.type === "agent.finished" && event.span_id) {
      const bar = agentSpans.get(event.span_id);
      if (bar) {
        bar.end = at;
        bar.status = event.payload.status === "failed" ? "failed" : "ok";
        bar.events.push(event);
      }
    } else if (event.type === "turn.started" && event.span_id) {
      const turn: Bar = {
        id: event.span_id, kind: "turn", agent: lane.agent,
        label: `turn ${text(event.payload.turn)}`,
        start: at, end: null, status: "running", events: [event],
      }; // prettier-ignore
      const siblings = turnsBySpan.get(event.parent_span_id ?? "") ?? [];
      const previous = siblings[siblings.length - 1];
      if (previous && previous.end === null) {
        previous.end = at;
        previous.status = "ok";
      }
      siblings.push(turn);
      turnsBySpan.set(event.parent_span_id ?? "", siblings);
      turnsById.set(event.span_id, turn);
      lane.turns.push(turn);
    } else if (event.type === "sla.escalated" && event.payload.hand_to) {
      // The work in progress was stopped and handed over: its agents end here.
      for (const bar of agentSpans.values()) {
        if (bar.end === null) {
          bar.end = at;
          bar.status = "cancelled";
        }
      }
      if (kind) lane.markers.push({ id: `${event.seq}`, kind, agent: lane.agent, label: markerLabel(event, names), at, events: [event] });
    } else if (event.type === "tool.result") {
      const marker = toolMarkers.get(toolCallKey(event));
      if (marker) {
        marker.events.push(event);
        if (event.payload.ok === false) marker.label += " (failed)";
      }
    } else if (kind) {
      const marker: Marker = {
        id: `${event.seq}`, kind, agent: lane.agent, label: markerLabel(event, names), at,
        events: [event],
      }; // prettier-ignore
      if (kind === "tool") toolMarkers.set(toolCallKey(event), marker);
      lane.markers.push(marker);
    } else if (event.span_id) {
      // What happened inside a span (a turn's message and usage) is part of its bar's details.
      (turnsById.get(event.span_id) ?? agentSpans.get(event.span_id))?.events.push(event);
    }
  }

  closeAtTheEnd(events, agentSpans.values());

  // The last turn of an agent ends with its agent span.
  for (const [spanId, turns] of turnsBySpan) {
    const owner = agentSpans.get(spanId);
    const lastTurn = turns[turns.length - 1];
    if (lastTurn.end === null && owner && owner.end !== null) {
      lastTurn.end = owner.end;
      lastTurn.status = owner.status;
    }
  }

  const running = [...agentSpans.values()].some((b) => b.end === null);
  if (events.length === 0) return { start: now, end: now, lanes: [] };
  const end = running ? Math.max(last, now) : last;
  // Events that draw nothing (run.started, usage...) do not make a lane of their own.
  const drawn = [...lanes.values()].filter((l) => l.bars.length || l.turns.length || l.markers.length);
  return { start: first, end: Math.max(end, first + 1), lanes: drawn };
}

/** Position of a moment on the axis, in percent. */
export function offsetPercent(timeline: Timeline, at: number): number {
  const span = timeline.end - timeline.start;
  return span <= 0 ? 0 : ((at - timeline.start) / span) * 100;
}

/** Width of a bar in percent, a running bar reaching to the axis' end. */
export function widthPercent(timeline: Timeline, bar: Bar): number {
  const end = bar.end ?? timeline.end;
  return Math.max(offsetPercent(timeline, end) - offsetPercent(timeline, bar.start), 0.5);
}

/** Markers of one lane drawn as one, because they are too close together to click apart. */
export interface MarkerGroup {
  id: string;
  agent: string;
  label: string;
  at: number;
  markers: Marker[];
  /** every marker's events, in seq order, for the details panel */
  events: RunEvent[];
}

/** The lane's markers in groups whose members lie within ``minGapPercent`` of the group's
 * first one: concurrent delegations, a tool call and its delegation, a failed attempt and its
 * retry happen within milliseconds and would otherwise hide one another. */
export function groupMarkers(timeline: Timeline, markers: Marker[], minGapPercent: number): MarkerGroup[] {
  const groups: MarkerGroup[] = [];
  let startsAt = -Infinity;
  for (const marker of [...markers].sort((a, b) => a.at - b.at)) {
    const position = offsetPercent(timeline, marker.at);
    const group = groups[groups.length - 1];
    if (group && position - startsAt < minGapPercent) {
      group.markers.push(marker);
    } else {
      groups.push({ id: marker.id, agent: marker.agent, label: "", at: marker.at, markers: [marker], events: [] });
      startsAt = position;
    }
  }
  for (const group of groups) {
    const n = group.markers.length;
    const labels = group.markers.map((m) => m.label).join("; ");
    group.label = n === 1 ? labels : `${n} at once: ${labels}`;
    group.events = group.markers.flatMap((m) => m.events).sort((a, b) => a.seq - b.seq);
    if (n > 1) group.id = `group:${group.id}`;
  }
  return groups;
}
