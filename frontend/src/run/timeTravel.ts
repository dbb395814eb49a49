// Time travel on a finished run: the replay view's frames, and the request a fork sends.
import { asText } from "./feed";
import type { Bar, Timeline } from "./timeline";
import { eventTime, type RunEvent } from "./types";

export interface ReplayFrame {
  /** The events up to and including the current one. */
  events: RunEvent[];
  /** The current event: the one the step landed on. */
  current: RunEvent | null;
  /** The clock of the frame (the current event's time): bars still open end here. */
  now: number;
}

/** The run as it stood after its ``step``-th event (1-based; clamped to the run). */
export function replayFrame(events: RunEvent[], step: number): ReplayFrame {
  const n = Math.max(0, Math.min(step, events.length));
  const shown = events.slice(0, n);
  const current = n > 0 ? events[n - 1] : null;
  const now = current ? eventTime(current.ts) : events.length ? eventTime(events[0].ts) : 0;
  return { events: shown, current, now };
}

/** The input as the fork form shows it for editing: text as text, anything else as JSON. */
export function inputForEditing(input: unknown): string {
  return asText(input);
}

export type ForkInput = { ok: true; value: unknown } | { ok: false; error: string };

/** The edited input as the fork sends it: the run took text, so text stays text; it took JSON,
 * so the edit must be JSON, or the reader is told where it is not. */
export function parseForkInput(text: string, original: unknown): ForkInput {
  if (typeof original === "string") return { ok: true, value: text };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, error: `The input is not valid JSON (${why}). Fix it, or use the run's input as it was.` };
  }
}

export interface ForkRequest {
  from_seq: number;
  input?: unknown;
  version?: number;
}

/** The body of ``POST /api/runs/{id}/fork``: only what changed, so the server keeps the rest. */
export function forkRequest(fromSeq: number, input: ForkInput & { ok: true }, original: unknown,
  version: number | null, originalVersion: number | null): ForkRequest {
  const body: ForkRequest = { from_seq: fromSeq };
  if (JSON.stringify(input.value) !== JSON.stringify(original)) body.input = input.value;
  if (version !== null && version !== originalVersion) body.version = version;
  return body;
}

/** The timeline of a replay frame, drawn on the whole run's axis so what happened stays in
 * place as it steps, with what was still going on at that moment ending at the moment. */
export function replayTimeline(whole: Timeline, frame: Timeline, now: number): Timeline {
  const cut = (bar: Bar): Bar => (bar.end === null ? { ...bar, end: now } : bar);
  return {
    ...frame,
    start: whole.start,
    end: whole.end,
    lanes: frame.lanes.map((lane) => ({ ...lane, bars: lane.bars.map(cut), turns: lane.turns.map(cut) })),
  };
}
