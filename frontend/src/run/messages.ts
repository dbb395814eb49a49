// The websocket carries untrusted JSON: only messages of the documented shapes get through.
import type { RunEvent, ServerMessage } from "./types";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isEvent(value: unknown): value is RunEvent {
  return (
    isObject(value) &&
    typeof value.seq === "number" &&
    typeof value.type === "string" &&
    (typeof value.ts === "string" || typeof value.ts === "number") &&
    isObject(value.payload ?? {})
  );
}

/** The message if it has a documented shape, otherwise null (and it is ignored). */
export function parseServerMessage(raw: string): ServerMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isObject(data)) return null;
  if (data.type === "events" && Array.isArray(data.events)) {
    const events = data.events.filter(isEvent).map((e) => ({ ...e, payload: e.payload ?? {} }));
    return { type: "events", events };
  }
  if (data.type === "delta" && typeof data.text === "string") {
    return {
      type: "delta",
      agent: typeof data.agent === "string" ? data.agent : null,
      span_id: typeof data.span_id === "string" ? data.span_id : null,
      text: data.text,
    };
  }
  if (data.type === "run" && isObject(data.run)) return { type: "run", run: data.run };
  return null;
}
