import { beforeEach, describe, expect, it } from "vitest";
import { feedItems } from "./feed";
import { ev, resetSeq } from "./testEvents";
import { buildTimeline } from "./timeline";

beforeEach(resetSeq);

const switched = (extra: Record<string, unknown> = {}) =>
  ev("fallback", "writer", 2, {
    kind: "model", from: "primary", to: "backup", activity_key: "writer/turn1",
    reason: "The model primary kept failing: HTTP 503", circuit_open: false, ...extra,
  }); // prettier-ignore

describe("which model answered each turn", () => {
  it("carries the model of an assistant message to its feed item", () => {
    const [item] = feedItems([ev("message", "writer", 1, { role: "assistant", content: "Hi", model: "backup" })]);
    expect(item).toMatchObject({ kind: "message", model: "backup" });
  });

  it("leaves it out when the event does not say (older runs, what an agent was given)", () => {
    const items = feedItems([
      ev("message", "writer", 1, { role: "user", content: "Task" }),
      ev("message", "writer", 2, { role: "assistant", content: "Hi", model: "" }),
    ]);
    expect(items.map((i) => (i.kind === "message" ? i.model : "?"))).toEqual([null, null]);
  });
});

describe("a model fallback", () => {
  it("says in the feed which model failed, which answers instead, and why", () => {
    const [note] = feedItems([switched()]);
    expect(note).toMatchObject({ kind: "note", tone: "warn" });
    expect(note.kind === "note" && note.text).toBe(
      "Model fallback: primary → backup: The model primary kept failing: HTTP 503",
    );
  });

  it("says when the model was skipped because its circuit was open", () => {
    const [note] = feedItems([switched({ circuit_open: true, reason: "The model primary was not called" })]);
    expect(note.kind === "note" && note.text).toContain("(circuit open: not called)");
  });

  it("is a marker on the agent's lane with the reason in its label", () => {
    const lane = buildTimeline([switched()], 0).lanes.find((l) => l.agent === "writer");
    expect(lane?.markers.map((m) => [m.kind, m.label])).toEqual([
      ["fallback", "model primary → backup: The model primary kept failing: HTTP 503"],
    ]);
  });

  it("still names agents for a fallback to another agent", () => {
    const [note] = feedItems([ev("fallback", "lead", 1, { from: "lead", to: "helper", reason: "failed" })], {
      helper: "Helper",
    });
    expect(note.kind === "note" && note.text).toBe("Falls back from lead to Helper: failed");
  });
});
