// Events as the server sends them, for the Vitest tests.
import type { RunEvent } from "./types";

let seq = 0;

export function resetSeq(): void {
  seq = 0;
}

export function ev(
  type: string,
  agent: string | null,
  tsSeconds: number,
  payload: Record<string, unknown> = {},
  span: { span_id?: string; parent_span_id?: string } = {},
): RunEvent {
  seq += 1;
  return {
    seq, ts: new Date(tsSeconds * 1000).toISOString(), type, key: `${type}:${seq}`, agent,
    span_id: span.span_id ?? null, parent_span_id: span.parent_span_id ?? null, payload,
    hash: "",
  }; // prettier-ignore
}
