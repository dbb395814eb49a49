import { beforeEach, describe, expect, it } from "vitest";
import { feedItems } from "./feed";
import { ev, resetSeq } from "./testEvents";
import { buildTimeline } from "./timeline";
import { toolCallKey } from "./toolCalls";
import type { RunEvent } from "./types";

beforeEach(resetSeq);

const call = (agent: string, key: string, tool: string) =>
  ev("tool.call", agent, 1, { tool, arguments: {}, call_id: "offline_0_0", activity_key: key });
const result = (agent: string, key: string, tool: string, ok: boolean, value: unknown) =>
  ev("tool.result", agent, 2, {
    tool, call_id: "offline_0_0", activity_key: key, ok,
    result: ok ? value : null, error: ok ? null : value,
  }); // prettier-ignore

/** As the offline model runs a supervisor: every agent's first call is "offline_0_0", and the
 * results come back in another order than the calls went out. */
function collidingRun(): RunEvent[] {
  return [
    call("controller", "run/controller/t1/c0", "delegate_to_extraction"),
    call("extraction", "run/controller/t1/c0/extraction/t1/c0", "sql_query"),
    call("figures", "run/controller/t1/c1/figures/t1/c0", "sql_query"),
    call("checker", "run/controller/t1/c2/checker/t1/c0", "calculator"),
    result("figures", "run/controller/t1/c1/figures/t1/c0", "sql_query", true, "figures' rows"),
    result("checker", "run/controller/t1/c2/checker/t1/c0", "calculator", false, "Division by zero."),
    result("extraction", "run/controller/t1/c0/extraction/t1/c0", "sql_query", true, "extraction's rows"),
  ];
}

describe("toolCallKey", () => {
  it("is the activity key, the same on a call and its result", () => {
    const events = collidingRun();
    expect(toolCallKey(events[1])).toBe(toolCallKey(events[6]));
    expect(toolCallKey(events[1])).not.toBe(toolCallKey(events[2]));
  });

  it("falls back to the agent and the provider's id for events without an activity key", () => {
    const a = ev("tool.call", "scout", 1, { tool: "search", call_id: "c1" });
    const b = ev("tool.call", "writer", 1, { tool: "search", call_id: "c1" });
    expect(toolCallKey(a)).not.toBe(toolCallKey(b));
  });
});

describe("the feed with provider ids reused across agents", () => {
  const tools = () =>
    feedItems(collidingRun()).flatMap((item) =>
      item.kind === "tool"
        ? [{ agent: item.agent, ok: item.result?.payload.ok ?? "running", value: item.result?.payload.result ?? item.result?.payload.error ?? null }]
        : [],
    );

  it("gives every call its own result, the failed one failed", () => {
    expect(tools()).toEqual([
      { agent: "controller", ok: "running", value: null },
      { agent: "extraction", ok: true, value: "extraction's rows" },
      { agent: "figures", ok: true, value: "figures' rows" },
      { agent: "checker", ok: false, value: "Division by zero." },
    ]);
  });
});

describe("the timeline with provider ids reused across agents", () => {
  it("puts each result on its own agent's marker", () => {
    const lanes = buildTimeline(collidingRun(), 0).lanes;
    const marker = (agent: string) => lanes.find((l) => l.agent === agent)!.markers[0];
    expect(marker("figures").events.map((e) => e.payload.result ?? e.payload.error ?? null)).toEqual([null, "figures' rows"]);
    expect(marker("checker").label).toBe("tool calculator (failed)");
    expect(marker("extraction").label).toBe("tool sql_query");
    expect(marker("controller").events).toHaveLength(1);
  });
});
