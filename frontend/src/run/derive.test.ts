import { beforeEach, describe, expect, it } from "vitest";
import { currentStatus, pendingFromEvents, runInterval } from "./derive";
import { ev, resetSeq } from "./testEvents";
import type { RunSummary } from "./types";

beforeEach(resetSeq);

const run = { status: "running", started_at: null, finished_at: null } as unknown as RunSummary;

describe("currentStatus", () => {
  it("takes a terminal event over a summary that has not caught up", () => {
    expect(currentStatus(run, [ev("run.started", null, 1)])).toBe("running");
    expect(currentStatus(run, [ev("run.failed", null, 2, { reason: "x" })])).toBe("failed");
    expect(currentStatus(run, [ev("run.cancelled", null, 2)])).toBe("cancelled");
  });
});

describe("pendingFromEvents", () => {
  it("finds the last question without an answer", () => {
    const events = [
      ev("human.requested", "a", 1, { activity_key: "h1", prompt: "first" }),
      ev("human.answered", "a", 2, { activity_key: "h1", answer: "ok" }),
      ev("human.requested", "b", 3, { activity_key: "h2", prompt: "second", kind: "budget" }),
    ];
    expect(pendingFromEvents(events)).toEqual({
      activity_key: "h2", node: "b", prompt: "second", answer_schema: null, kind: "budget",
    }); // prettier-ignore
    expect(pendingFromEvents(events.slice(0, 2))).toBeNull();
  });
});

describe("runInterval", () => {
  it("falls back to the first and the terminal event's times", () => {
    const events = [ev("run.started", null, 10), ev("run.finished", null, 25)];
    expect(runInterval(run, events)).toEqual({ start: 10_000, end: 25_000 });
    expect(runInterval(run, [])).toEqual({ start: null, end: null });
  });
});
