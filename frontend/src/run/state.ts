// The run page's state and the pure functions that apply what the server sends.
import type { RunEvent, RunSummary } from "./types";

/** Text streamed into a message that has not been stored yet, per span. */
export interface LiveMessage {
  spanId: string;
  agent: string | null;
  text: string;
}

export interface RunState {
  run: RunSummary;
  events: RunEvent[];
  lastSeq: number;
  live: LiveMessage[];
}

export function initialState(run: RunSummary): RunState {
  return { run, events: [], lastSeq: 0, live: [] };
}

/** Append a batch in seq order, dropping events already held (a resubscribe may resend). */
export function applyEvents(state: RunState, batch: RunEvent[]): RunState {
  const fresh = batch.filter((e) => e.seq > state.lastSeq).sort((a, b) => a.seq - b.seq);
  const unique = fresh.filter((e, i) => i === 0 || e.seq !== fresh[i - 1].seq);
  if (unique.length === 0) return state;
  // A stored message replaces the tokens streamed for it.
  const doneSpans = new Set(
    unique.filter((e) => e.type === "message" || e.type === "agent.finished").map((e) => e.span_id),
  );
  return {
    ...state,
    events: [...state.events, ...unique],
    lastSeq: unique[unique.length - 1].seq,
    live: state.live.filter((m) => !doneSpans.has(m.spanId)),
  };
}

export function applyDelta(
  state: RunState,
  delta: { agent: string | null; span_id: string | null; text: string },
): RunState {
  const spanId = delta.span_id ?? `agent:${delta.agent ?? ""}`;
  const existing = state.live.find((m) => m.spanId === spanId);
  const live = existing
    ? state.live.map((m) => (m === existing ? { ...m, text: m.text + delta.text } : m))
    : [...state.live, { spanId, agent: delta.agent, text: delta.text }];
  return { ...state, live };
}

export function applyRun(state: RunState, run: Partial<RunSummary>): RunState {
  return { ...state, run: { ...state.run, ...run } };
}
