import { describe, expect, it } from "vitest";
import { parseServerMessage } from "./messages";

describe("parseServerMessage", () => {
  it("accepts the documented shapes", () => {
    const events = JSON.stringify({
      type: "events",
      events: [{ seq: 1, ts: "2026-01-01T00:00:00Z", type: "run.started", key: "k", payload: {} }],
    });
    expect(parseServerMessage(events)).toMatchObject({ type: "events", events: [{ seq: 1 }] });
    expect(parseServerMessage('{"type":"delta","agent":"a","span_id":"s","text":"hi"}')).toEqual({
      type: "delta", agent: "a", span_id: "s", text: "hi",
    }); // prettier-ignore
    expect(parseServerMessage('{"type":"run","run":{"status":"failed"}}')).toEqual({
      type: "run",
      run: { status: "failed" },
    });
  });

  it("ignores what is not JSON or not a known message, and events without a seq", () => {
    expect(parseServerMessage("not json")).toBeNull();
    expect(parseServerMessage('{"type":"shout"}')).toBeNull();
    expect(parseServerMessage("[1,2]")).toBeNull();
    const bad = parseServerMessage('{"type":"events","events":[{"type":"x","ts":1}]}');
    expect(bad).toEqual({ type: "events", events: [] });
  });
});
