import { beforeEach, describe, expect, it } from "vitest";
import { feedItems } from "./feed";
import { ev, resetSeq } from "./testEvents";

beforeEach(resetSeq);

const texts = (events: ReturnType<typeof ev>[]) =>
  feedItems(events).map((item) => (item.kind === "note" ? item.text : item.kind));

describe("feedItems", () => {
  it("leaves out the empty text of a turn that only calls tools, not its calls", () => {
    const call = { id: "c1", name: "search", arguments: {} };
    const items = texts([
      ev("message", "scout", 1, { role: "assistant", content: null, tool_calls: [call] }),
      ev("tool.call", "scout", 2, { tool: "search", arguments: {}, call_id: "c1" }),
      ev("message", "scout", 3, { role: "assistant", content: "Found it", tool_calls: [] }),
    ]);
    expect(items).toEqual(["tool", "message"]);
  });

  it("keeps an answer that is empty for no reason, so it can be seen", () => {
    expect(texts([ev("message", "scout", 1, { role: "assistant", content: "", tool_calls: [] })])).toEqual([
      "message",
    ]);
  });

  it("says when a conversation's oldest messages were summarised, and into what", () => {
    const summarised = ev("conversation.summarised", "lead", 1, {
      summary: "Ada asked about invoices.", covers: 2, messages_summarised: 2, messages_kept: 1,
    });
    expect(texts([summarised])).toEqual([
      "The conversation's 2 oldest messages were summarised: Ada asked about invoices.",
    ]);
  });

  it("says once that a run waits for a person, naming the node as the builder does", () => {
    const key = "run/editor/human";
    const events = [
      ev("human.requested", "editor", 1, { activity_key: key, node: "editor", prompt: "Approve the draft?", kind: "human" }),
      ev("run.waiting", "editor", 2, { activity_key: key, reason: "Waiting for Editor to answer: Approve the draft?" }),
    ]; // prettier-ignore
    const notes = feedItems(events, { editor: "Editor" }).map((i) => (i.kind === "note" ? i.text : i.kind));
    expect(notes).toEqual(["Waiting for Editor to answer: Approve the draft?"]);
  });

  it("still says why a run waits when no question came before (a budget, an old run)", () => {
    const budget = "run/lead/budget";
    const events = [
      ev("human.requested", "lead", 1, { activity_key: budget, node: "lead", prompt: "Budget reached.", kind: "budget" }),
      ev("run.waiting", "lead", 2, { activity_key: budget, reason: "Budget reached." }),
      ev("run.waiting", "lead", 3, { activity_key: "other", reason: "Waiting for the clock." }),
    ]; // prettier-ignore
    expect(texts(events)).toEqual(["Waiting for a person: Budget reached.", "Run waiting: Waiting for the clock."]);
  });

  it("numbers retries from 1 and says the delay in tenths of a second", () => {
    const retry = ev("retry", "lead", 1, { attempt: 2, delay_s: 0.5129023594244351, error: "429" });
    expect(texts([retry])).toEqual(["Retry 1 in 0.5 s: 429"]);
  });

  it("says how long a call waits for its credential's rate limit", () => {
    const waiting = ev("rate_limit.waiting", "lead", 1, { wait_s: 1.234, model: "gpt", paused: true });
    expect(texts([waiting])).toEqual(["Waits 1.2 s for gpt's rate limit (paused after a 429)"]);
  });

  it("says a call waits for its only model's open circuit", () => {
    const waiting = ev("circuit.waiting", "lead", 1, { wait_s: 12.34, model: "claude", probing: false });
    expect(texts([waiting])).toEqual([
      "Waits 12.3 s for claude to be tried again: its circuit is open after repeated failures",
    ]);
  });

  it("says when a service level passed and what the team's escalation did", () => {
    const breached = ev("sla.breached", null, 1, { priority: "urgent", deadline_s: 60, elapsed_s: 60.004 });
    const escalated = ev("sla.escalated", null, 2, {
      priority: "urgent", deadline_s: 60, elapsed_s: 60.004, hand_to: "support_lead",
      hand_to_name: "Support lead", raised_priority: null, notify_webhooks: true,
    }); // prettier-ignore
    expect(texts([breached, escalated])).toEqual([
      "Service level passed: urgent work is due within 60.0 s, 60.0 s have gone by",
      "Escalated (urgent service level): handed to Support lead, webhooks notified",
    ]);
  });

  it("leaves no dangling colon when an agent starts without a task", () => {
    expect(texts([ev("agent.started", "billing", 1, { task: null })])).toEqual(["billing started"]);
  });
});

describe("feedItems with the agents' names", () => {
  const names = { lead: "Editor in chief", "agent-2": "Fact checker" };

  it("says the names people gave the agents, not their ids", () => {
    const items = feedItems(
      [
        ev("delegation", "lead", 1, { to: "agent-2", task: "check", call_id: "c0" }),
        ev("handoff", "agent-2", 2, { from: "agent-2", to: "lead", reason: "done" }),
        ev("message", "agent-2", 3, { role: "assistant", content: "Checked." }),
        ev("tool.call", "agent-2", 4, { tool: "search", call_id: "c1", activity_key: "k" }),
      ],
      names,
    );
    expect(items.map((i) => (i.kind === "note" ? i.text : i.agent))).toEqual([
      "Editor in chief delegates to Fact checker: check",
      "Fact checker hands off to Editor in chief: done",
      "Fact checker",
      "Fact checker",
    ]);
  });

  it("keeps the id of an agent the team does not name", () => {
    expect(feedItems([ev("agent.started", "ghost", 1, { task: "x" })], names).map((i) => i.kind === "note" && i.text)).toEqual([
      "ghost started: x",
    ]);
  });
});
