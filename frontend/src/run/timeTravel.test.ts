import { describe, expect, it } from "vitest";
import { ev } from "./testEvents";
import { buildTimeline } from "./timeline";
import { forkRequest, parseForkInput, replayFrame, replayTimeline } from "./timeTravel";

describe("replayFrame", () => {
  const events = [ev("run.started", null, 1, {}), ev("agent.started", "a", 2, {}), ev("run.finished", null, 3, {})];

  it("holds the events up to the step, the current one last, with its time as the clock", () => {
    const frame = replayFrame(events, 2);
    expect(frame.events).toEqual(events.slice(0, 2));
    expect(frame.current).toBe(events[1]);
    expect(frame.now).toBe(2000);
  });

  it("clamps steps outside the run", () => {
    expect(replayFrame(events, 0).events).toEqual([]);
    expect(replayFrame(events, 0).current).toBeNull();
    expect(replayFrame(events, 99).current).toBe(events[2]);
    expect(replayFrame([], 5).events).toEqual([]);
  });
});

describe("fork input", () => {
  it("keeps text as text when the run took text", () => {
    expect(parseForkInput("not {json", "the old brief")).toEqual({ ok: true, value: "not {json" });
  });

  it("parses JSON when the run took JSON, and says so when the edit is not", () => {
    expect(parseForkInput('{"q": 2}', { q: 1 })).toEqual({ ok: true, value: { q: 2 } });
    const bad = parseForkInput('{"q": ', { q: 1 });
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toMatch(/^The input is not valid JSON/);
  });

  it("sends only what changed", () => {
    const same = { ok: true as const, value: { q: 1 } };
    expect(forkRequest(4, same, { q: 1 }, 2, 2)).toEqual({ from_seq: 4 });
    expect(forkRequest(4, { ok: true, value: { q: 2 } }, { q: 1 }, 3, 2)).toEqual({
      from_seq: 4, input: { q: 2 }, version: 3,
    });
  });
});

describe("replayTimeline", () => {
  it("keeps the whole run's axis and ends what was still going on at the frame's moment", () => {
    const events = [
      ev("run.started", null, 100, {}),
      ev("agent.started", "a", 101, {}, { span_id: "s" }),
      ev("agent.finished", "a", 110, { status: "ok" }, { span_id: "s" }),
      ev("run.finished", null, 111, {}),
    ];
    const whole = buildTimeline(events, 111_000);
    const frame = replayFrame(events, 2);
    const timeline = replayTimeline(whole, buildTimeline(frame.events, frame.now), frame.now);
    expect([timeline.start, timeline.end]).toEqual([whole.start, whole.end]);
    const bar = timeline.lanes.find((l) => l.agent === "a")!.bars[0];
    expect(bar.end).toBe(101_000);
  });
});
