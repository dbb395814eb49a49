// The run page's state and the pure functions that apply what the server sends.
import { isTerminal } from "./derive";
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
  /** Spans whose message is stored (or whose agent finished): tokens for them are stale. */
  closedSpans: ReadonlySet<string>;
  /** Whether a terminal event arrived: nothing streams after it. */
  ended: boolean;
}

export function initialState(run: RunSummary): RunState {
  return { run, events: [], lastSeq: 0, live: [], closedSpans: new Set(), ended: false };
}

function spansOf(events: RunEvent[], types: string[]): Set<string> {
  return new Set(events.filter((e) => types.includes(e.type) && e.span_id).map((e) => e.span_id!));
}

/** Append a batch in seq order, dropping events already held (a resubscribe may resend). */
export function applyEvents(state: RunState, batch: RunEvent[]): RunState {
  const fresh = batch.filter((e) => e.seq > state.lastSeq).sort((a, b) => a.seq - b.seq);
  const unique = fresh.filter((e, i) => i === 0 || e.seq !== fresh[i - 1].seq);
  if (unique.length === 0) return state;
  // A stored message replaces the tokens streamed for it; a failed attempt's tokens are
  // dropped, as the retry streams its answer again from the start.
  const closed = spansOf(unique, ["message", "agent.finished"]);
  const dropped = new Set([...closed, ...spansOf(unique, ["activity.failed"])]);
  return {
    ...state,
    events: [...state.events, ...unique],
    lastSeq: unique[unique.length - 1].seq,
    live: state.live.filter((m) => !dropped.has(m.spanId)),
    closedSpans: closed.size ? new Set([...state.closedSpans, ...closed]) : state.closedSpans,
    ended: state.ended || unique.some(isTerminal),
  };
}

/** Add streamed tokens, unless they come late: the websocket may deliver a delta after the
 * stored message it belongs to (caught up from the database first), or after the run ended. */
export function applyDelta(
  state: RunState,
  delta: { agent: string | null; span_id: string | null; text: string },
): RunState {
  const spanId = delta.span_id ?? `agent:${delta.agent ?? ""}`;
  if (state.ended || state.closedSpans.has(spanId)) return state;
  const existing = state.live.find((m) => m.spanId === spanId);
  const live = existing
    ? state.live.map((m) => (m === existing ? { ...m, text: m.text + delta.text } : m))
    : [...state.live, { spanId, agent: delta.agent, text: delta.text }];
  return { ...state, live };
}

/** Merge a run summary, unless it is older than the one held. Summaries come over the websocket
 * and in HTTP responses (answer, cancel, the refresh on connecting), which can land in any
 * order: an answer's slow response ("running", no output) after the socket said the run
 * succeeded. Each summary carries ``last_seq``, the run's last event when it was read, which only
 * grows; the greater is the newer, and on a tie the later arrival wins. */
export function applyRun(state: RunState, run: Partial<RunSummary>): RunState {
  if (typeof run.last_seq === "number" && run.last_seq < (state.run.last_seq ?? 0)) return state;
  return { ...state, run: { ...state.run, ...run } };
}
