// The shapes of the runs API and websocket (docs: the API contract), as the run page uses them.

export interface RunEvent {
  seq: number;
  ts: string | number;
  type: string;
  key: string;
  agent: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  payload: Record<string, unknown>;
  hash?: string;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  default?: unknown;
}

export interface PendingHuman {
  activity_key: string;
  node: string | null;
  prompt: string | null;
  answer_schema: JsonSchema | null;
  kind: string;
}

export interface Artifact {
  id: string;
  name: string;
  content_type: string;
  size: number;
  url: string;
  /** The server serves it inline (a PNG, JPEG, GIF or WebP image); anything else is a download. */
  inline: boolean;
}

export type RunStatus = "queued" | "running" | "waiting" | "succeeded" | "failed" | "cancelled";

export interface RunSummary {
  id: string;
  team_id: number | null;
  team_name: string;
  team_version: number | null;
  status: RunStatus;
  input: unknown;
  output: unknown;
  failure_reason: string;
  waiting_for: string;
  /** While waiting on a question with a timeout: when it fails as unanswered. */
  wake_at: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  input_tokens: number;
  output_tokens: number;
  cost_usd: string | number;
  last_seq: number;
  pending_human: PendingHuman | null;
  artifacts: Artifact[];
  /** Set once retention moved the events to an archive: no replay or fork then. */
  archived_at?: string | null;
}

/** Agent ids (as events name them) to the names people gave them, from the run's team. */
export type AgentNames = Readonly<Record<string, string>>;

export type ServerMessage =
  | { type: "events"; events: RunEvent[] }
  | { type: "delta"; agent: string | null; span_id: string | null; text: string }
  | { type: "run"; run: Partial<RunSummary> };

export const ACTIVE_STATUSES: readonly RunStatus[] = ["queued", "running", "waiting"];

export function isActive(status: RunStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}

/** Milliseconds since the epoch of an event time (ISO string or seconds as a number). */
export function eventTime(ts: string | number): number {
  return typeof ts === "number" ? ts * 1000 : Date.parse(ts);
}
