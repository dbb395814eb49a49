// What the page shows that the events settle even before a summary update arrives: events are
// the record, the summary may lag behind them.
import { eventTime, type PendingHuman, type RunEvent, type RunStatus, type RunSummary } from "./types";

const STATUS_OF_TERMINAL: Record<string, RunStatus> = {
  "run.finished": "succeeded",
  "run.failed": "failed",
  "run.cancelled": "cancelled",
};

export function isTerminal(event: RunEvent): boolean {
  return event.type in STATUS_OF_TERMINAL;
}

export function terminalEvent(events: RunEvent[]): RunEvent | null {
  return events.find(isTerminal) ?? null;
}

/** How the run ended according to its events; null while they show no end. */
export function endStatus(events: RunEvent[]): RunStatus | null {
  const end = terminalEvent(events);
  return end ? STATUS_OF_TERMINAL[end.type] : null;
}

export function currentStatus(run: RunSummary, events: RunEvent[]): RunStatus {
  return endStatus(events) ?? run.status;
}

/** The last question no answer has been recorded for, as the summary's pending_human. */
export function pendingFromEvents(events: RunEvent[]): PendingHuman | null {
  const answered = new Set(
    events.filter((e) => e.type === "human.answered").map((e) => e.payload.activity_key),
  );
  const open = events
    .filter((e) => e.type === "human.requested" && !answered.has(e.payload.activity_key))
    .pop();
  if (!open) return null;
  const p = open.payload;
  return {
    activity_key: String(p.activity_key ?? ""),
    node: typeof p.node === "string" ? p.node : open.agent,
    prompt: typeof p.prompt === "string" ? p.prompt : null,
    answer_schema: (p.answer_schema as PendingHuman["answer_schema"]) ?? null,
    kind: typeof p.kind === "string" ? p.kind : "human",
  };
}

/** Start and end of the run in ms: from the summary, else from its first and terminal events. */
export function runInterval(run: RunSummary, events: RunEvent[]): { start: number | null; end: number | null } {
  const end = terminalEvent(events);
  const start = run.started_at ? Date.parse(run.started_at) : events.length ? eventTime(events[0].ts) : null;
  const finish = run.finished_at ? Date.parse(run.finished_at) : end ? eventTime(end.ts) : null;
  return { start, end: finish };
}
