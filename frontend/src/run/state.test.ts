import { beforeEach, describe, expect, it } from "vitest";
import { applyDelta, applyEvents, applyRun, initialState, type RunState } from "./state";
import { ev, resetSeq } from "./testEvents";
import type { RunSummary } from "./types";

beforeEach(resetSeq);

const run = { id: "r1", status: "running", input_tokens: 0 } as unknown as RunSummary;

describe("applyEvents", () => {
  it("appends in seq order and remembers the last seq", () => {
    const [a, b, c] = [ev("run.started", null, 1), ev("message", "x", 2), ev("usage", "x", 3)];
    const state = applyEvents(initialState(run), [c, a, b]);
    expect(state.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(state.lastSeq).toBe(3);
  });

  it("drops events it already has, as a resubscribe after a reconnect resends them", () => {
    const events = [ev("run.started", null, 1), ev("message", "x", 2), ev("usage", "x", 3)];
    const once = applyEvents(initialState(run), events.slice(0, 2));
    const twice = applyEvents(once, events);
    expect(twice.events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(applyEvents(twice, events)).toBe(twice);
  });

  it("drops duplicates inside one batch", () => {
    const a = ev("run.started", null, 1);
    expect(applyEvents(initialState(run), [a, a]).events).toHaveLength(1);
  });

  it("replaces streamed tokens with the stored message of the same span", () => {
    let state = applyDelta(initialState(run), { agent: "x", span_id: "t1", text: "Hel" });
    state = applyDelta(state, { agent: "x", span_id: "t1", text: "lo" });
    expect(state.live).toEqual([{ spanId: "t1", agent: "x", text: "Hello" }]);
    state = applyEvents(state, [ev("message", "x", 2, { content: "Hello" }, { span_id: "t1" })]);
    expect(state.live).toEqual([]);
  });
});

describe("applyRun", () => {
  it("merges the summary's changed fields", () => {
    const state = applyRun(initialState(run), { status: "succeeded", input_tokens: 12 });
    expect(state.run).toMatchObject({ id: "r1", status: "succeeded", input_tokens: 12 });
  });

  it("never lets an older summary overwrite a newer one", () => {
    // The socket says the run ended (event 9) before the answer's response (event 5) lands.
    const waiting = applyRun(initialState(run), { status: "waiting", last_seq: 4, output: null });
    const ended = applyRun(waiting, { status: "succeeded", last_seq: 9, output: "the report" });
    const late = applyRun(ended, { status: "running", last_seq: 5, output: null, pending_human: null });
    expect(late).toBe(ended);
    expect(late.run).toMatchObject({ status: "succeeded", output: "the report" });
  });

  it("takes a summary as new as the one held, and one that does not say how new it is", () => {
    const held = applyRun(initialState(run), { status: "queued", last_seq: 5 });
    expect(applyRun(held, { status: "running", last_seq: 5 }).run.status).toBe("running");
    expect(applyRun(held, { input_tokens: 7 }).run.input_tokens).toBe(7);
  });
});

describe("applyDelta", () => {
  const streaming = (state: RunState) => state.live.map((m) => m.text);

  it("ignores tokens that arrive after their stored message", () => {
    // The page caught up from the database, then the broadcast's delta came in.
    let state = applyEvents(initialState(run), [
      ev("message", "x", 2, { role: "assistant", content: "Hello" }, { span_id: "t1" }),
    ]);
    state = applyDelta(state, { agent: "x", span_id: "t1", text: "Hello" });
    expect(streaming(state)).toEqual([]);
  });

  it("ignores tokens that arrive after the run ended, and keeps what was cut off", () => {
    let state = applyDelta(initialState(run), { agent: "x", span_id: "t1", text: "Hal" });
    state = applyEvents(state, [ev("run.cancelled", null, 3, { reason: "by a person" })]);
    expect(state.ended).toBe(true);
    state = applyDelta(state, { agent: "x", span_id: "t2", text: "late" });
    expect(streaming(state)).toEqual(["Hal"]);
  });

  it("starts over when an attempt fails, as the retry streams its answer again", () => {
    let state = applyDelta(initialState(run), { agent: "x", span_id: "t1", text: "Hel" });
    state = applyEvents(state, [ev("activity.failed", "x", 2, { error: "reset" }, { span_id: "t1" })]);
    state = applyDelta(state, { agent: "x", span_id: "t1", text: "Hello" });
    expect(streaming(state)).toEqual(["Hello"]);
  });
});
