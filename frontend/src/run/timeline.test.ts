import { beforeEach, describe, expect, it } from "vitest";
import { ev, resetSeq } from "./testEvents";
import { buildTimeline, groupMarkers, offsetPercent, RUN_LANE, widthPercent } from "./timeline";

beforeEach(resetSeq);

function supervisorRun() {
  return [
    ev("run.started", null, 100, { input: "x" }),
    ev("agent.started", "boss", 100, { task: "plan" }, { span_id: "a1" }),
    ev("turn.started", "boss", 101, { turn: 1 }, { span_id: "t1", parent_span_id: "a1" }),
    ev("delegation", "boss", 102, { to: "writer", task: "write", call_id: "c1" }, { span_id: "t1" }),
    ev("agent.started", "writer", 102, { task: "write" }, { span_id: "a2", parent_span_id: "t1" }),
    ev("tool.call", "writer", 103, { tool: "search", arguments: {}, call_id: "k1" }),
    ev("tool.result", "writer", 104, { tool: "search", call_id: "k1", ok: false, error: "boom" }),
    ev("retry", "writer", 104, { attempt: 2 }),
    ev("agent.finished", "writer", 106, { status: "failed", reason: "gave up" }, { span_id: "a2" }),
    ev("turn.started", "boss", 107, { turn: 2 }, { span_id: "t2", parent_span_id: "a1" }),
    ev("human.requested", "boss", 108, { prompt: "ok?" }),
    ev("agent.finished", "boss", 110, { status: "ok" }, { span_id: "a1" }),
  ];
}

describe("buildTimeline", () => {
  it("ends the work an escalation took over and marks the escalation on the run's lane", () => {
    const timeline = buildTimeline(
      [
        ev("run.started", null, 100, { input: "x" }),
        ev("agent.started", "billing", 100, { task: null }, { span_id: "b1" }),
        ev("sla.breached", null, 160, { priority: "urgent", deadline_s: 60, elapsed_s: 60 }),
        ev("sla.escalated", null, 160, {
          priority: "urgent", hand_to: "lead", hand_to_name: "Support lead", notify_webhooks: false,
        }), // prettier-ignore
        ev("agent.started", "lead", 160, { task: "take it" }, { span_id: "l1" }),
      ],
      200,
    );
    const [billing] = timeline.lanes.find((l) => l.agent === "billing")!.bars;
    expect([billing.end, billing.status]).toEqual([160_000, "cancelled"]);
    expect(timeline.lanes.find((l) => l.agent === "lead")!.bars[0].end).toBeNull();
    const run = timeline.lanes.find((l) => l.agent === RUN_LANE)!;
    expect(run.name).toBe("Run");
    expect(run.markers.map((m) => m.label)).toEqual([
      "service level passed (urgent, 60 s)",
      "Escalated (urgent service level): handed to Support lead",
    ]);
  });

  it("makes one lane per agent in order of first appearance", () => {
    const timeline = buildTimeline(supervisorRun(), 0);
    expect(timeline.lanes.map((l) => l.agent)).toEqual(["boss", "writer"]);
  });

  it("gives run-level markers (a failed run) a lane of their own", () => {
    const events = [...supervisorRun(), ev("run.failed", null, 111, { reason: "deadline" })];
    const lanes = buildTimeline(events, 0).lanes;
    expect(lanes.map((l) => l.agent)).toEqual([RUN_LANE, "boss", "writer"]);
    expect(lanes[0].markers[0].label).toBe("run.failed: deadline");
  });

  it("turns agent spans into bars that end with agent.finished and carry its status", () => {
    const lanes = buildTimeline(supervisorRun(), 0).lanes;
    const [boss] = lanes.find((l) => l.agent === "boss")!.bars;
    const [writer] = lanes.find((l) => l.agent === "writer")!.bars;
    expect([boss.start, boss.end, boss.status]).toEqual([100_000, 110_000, "ok"]);
    expect([writer.end, writer.status]).toEqual([106_000, "failed"]);
    expect(writer.events.map((e) => e.type)).toEqual(["agent.started", "agent.finished"]);
  });

  it("gives a turn's bar what happened in it: the model's message and its usage", () => {
    const events = [
      ev("agent.started", "boss", 100, { task: "plan" }, { span_id: "a1" }),
      ev("message", "boss", 100, { role: "user", content: "plan" }, { span_id: "a1" }),
      ev("turn.started", "boss", 101, { turn: 1 }, { span_id: "t1", parent_span_id: "a1" }),
      ev("message", "boss", 102, { role: "assistant", content: "Done" }, { span_id: "t1" }),
      ev("usage", "boss", 102, { input_tokens: 9, output_tokens: 2 }, { span_id: "t1" }),
      ev("agent.finished", "boss", 103, { status: "ok" }, { span_id: "a1" }),
    ];
    const boss = buildTimeline(events, 0).lanes[0];
    expect(boss.turns[0].events.map((e) => e.type)).toEqual(["turn.started", "message", "usage"]);
    expect(boss.bars[0].events.map((e) => e.type)).toEqual(["agent.started", "message", "agent.finished"]);
  });

  it("ends a turn where the next one starts and the last one with its agent", () => {
    const boss = buildTimeline(supervisorRun(), 0).lanes.find((l) => l.agent === "boss")!;
    expect(boss.turns.map((t) => [t.start, t.end])).toEqual([
      [101_000, 107_000],
      [107_000, 110_000],
    ]);
  });

  it("pairs a tool call with its result in one marker and flags a failure", () => {
    const writer = buildTimeline(supervisorRun(), 0).lanes.find((l) => l.agent === "writer")!;
    const tool = writer.markers.find((m) => m.kind === "tool")!;
    expect(tool.events.map((e) => e.type)).toEqual(["tool.call", "tool.result"]);
    expect(tool.label).toBe("tool search (failed)");
    expect(writer.markers.map((m) => m.kind)).toEqual(["tool", "retry"]);
  });

  it("marks delegations and human waits on the lane of the agent that made them", () => {
    const boss = buildTimeline(supervisorRun(), 0).lanes.find((l) => l.agent === "boss")!;
    expect(boss.markers.map((m) => [m.kind, m.label])).toEqual([
      ["delegation", "delegates to writer"],
      ["human", "waits for a person"],
    ]);
  });

  it("lets a running agent's bar reach to now, and stretches the axis with it", () => {
    const events = supervisorRun().slice(0, 6);
    const timeline = buildTimeline(events, 200_000);
    const boss = timeline.lanes.find((l) => l.agent === "boss")!.bars[0];
    expect(boss.end).toBeNull();
    expect(boss.status).toBe("running");
    expect(timeline.end).toBe(200_000);
    expect(widthPercent(timeline, boss)).toBeCloseTo(100);
  });

  it("ends the bars of agents still working when the run ends, not at the time of looking", () => {
    const events = [...supervisorRun().slice(0, 6), ev("run.cancelled", null, 104, { reason: "stop" })];
    const timeline = buildTimeline(events, 900_000);
    const boss = timeline.lanes.find((l) => l.agent === "boss")!;
    expect([boss.bars[0].end, boss.bars[0].status]).toEqual([104_000, "cancelled"]);
    expect([boss.turns[0].end, boss.turns[0].status]).toEqual([104_000, "cancelled"]);
    expect(timeline.end).toBe(104_000);

    const failed = [...supervisorRun().slice(0, 6), ev("run.failed", null, 105, { reason: "deadline" })];
    const bar = buildTimeline(failed, 900_000).lanes.find((l) => l.agent === "writer")!.bars[0];
    expect([bar.end, bar.status]).toEqual([105_000, "failed"]);
  });

  it("places moments on the axis in percent", () => {
    const timeline = buildTimeline(supervisorRun(), 0);
    expect(offsetPercent(timeline, 100_000)).toBe(0);
    expect(offsetPercent(timeline, 105_000)).toBe(50);
    expect(offsetPercent(timeline, 110_000)).toBe(100);
  });

  it("draws nothing for a run without events", () => {
    expect(buildTimeline([], 5).lanes).toEqual([]);
  });
});

describe("groupMarkers", () => {
  // A supervisor delegating to three workers in one turn: six markers within milliseconds.
  function concurrentDelegations() {
    const events = [ev("agent.started", "boss", 100, { task: "plan" }, { span_id: "a1" })];
    for (const worker of ["a", "b", "c"]) {
      events.push(ev("tool.call", "boss", 100.001, { tool: `delegate_to_${worker}`, call_id: worker }));
      events.push(ev("delegation", "boss", 100.001, { to: worker, call_id: worker }));
    }
    events.push(ev("tool.call", "boss", 105, { tool: "calc", call_id: "k" }));
    events.push(ev("agent.finished", "boss", 110, { status: "ok" }, { span_id: "a1" }));
    return buildTimeline(events, 0);
  }

  it("draws markers too close to click apart as one group holding all their events", () => {
    const timeline = concurrentDelegations();
    const groups = groupMarkers(timeline, timeline.lanes[0].markers, 2);
    expect(groups.map((g) => g.markers.length)).toEqual([6, 1]);
    expect(groups[0].label).toBe(
      "6 at once: tool delegate_to_a; delegates to a; tool delegate_to_b; delegates to b; " +
        "tool delegate_to_c; delegates to c",
    );
    expect(groups[0].events.map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(groups[1]).toMatchObject({ id: groups[1].markers[0].id, label: "tool calc" });
  });

  it("keeps markers apart when there is room for them", () => {
    const events = [
      ev("agent.started", "boss", 100, { task: "plan" }, { span_id: "a1" }),
      ev("delegation", "boss", 101, { to: "a" }),
      ev("delegation", "boss", 102, { to: "b" }),
      ev("agent.finished", "boss", 110, { status: "ok" }, { span_id: "a1" }),
    ];
    const timeline = buildTimeline(events, 0);
    expect(groupMarkers(timeline, timeline.lanes[0].markers, 2).map((g) => g.label)).toEqual([
      "delegates to a",
      "delegates to b",
    ]);
  });
});

describe("buildTimeline with the agents' names", () => {
  it("labels lanes, bars and markers with names, keeping ids as the lanes' keys", () => {
    const names = { boss: "Editor in chief", writer: "Staff writer" };
    const lanes = buildTimeline(supervisorRun(), 0, names).lanes;
    expect(lanes.map((l) => [l.agent, l.name])).toEqual([
      ["boss", "Editor in chief"],
      ["writer", "Staff writer"],
    ]);
    expect(lanes[0].bars[0].label).toBe("Editor in chief: plan");
    expect(lanes[0].markers.map((m) => m.label)).toContain("delegates to Staff writer");
  });
});
